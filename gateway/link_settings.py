"""The one builder of MQTT link settings from the config's ``[mqtt]``: the gateway's, the agent's, the demo's.

Light on purpose (the sensor agent imports it): the config is only a type here, the settings are
``gateway.mqtt_link`` dataclasses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.mqtt_link import LinkSettings

if TYPE_CHECKING:
    from gateway.config import Config


def link_settings(config: Config, *, client_id: str | None = None, persistent: bool = True,
                  manual_ack: bool | None = None, agent: bool = False) -> LinkSettings:
    """MQTT link settings from ``[mqtt]`` (the embedded broker speaks MQTT 3.1.1).

    ``manual_ack`` defaults to ``persistent``: a persistent subscriber acks a message only after its commit.
    """
    addr = config.mqtt.address(agent=agent)
    m = config.mqtt
    return LinkSettings(
        host=addr.host,
        port=addr.port,
        client_id=client_id or config.client_id,
        protocol="3.1.1" if m.embedded and not (agent and m.agent_url) else m.protocol,
        tls=addr.tls,
        username=addr.username,
        password=addr.password,
        ca_file=m.ca_file,
        cert_file=m.cert_file,
        key_file=m.key_file,
        keepalive=m.keepalive,
        persistent=persistent,
        manual_ack=persistent if manual_ack is None else manual_ack,
    )


def agent_link_settings(config: Config, agent_id: str) -> LinkSettings:
    """The sensor agent's: its own login (``[mqtt] agent_url``), a persistent session named after the site and agent,
    acks by the library (it only sends)."""
    return link_settings(config, client_id=f"houqin-{config.site.id}-{agent_id}"[:64], persistent=True,
                         manual_ack=False, agent=True)
