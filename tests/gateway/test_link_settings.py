"""One builder of MQTT link settings: the gateway's subscriber and the agent's sender differ only where they must."""

from __future__ import annotations

from gateway.config import parse_config
from gateway.link_settings import agent_link_settings, link_settings


def test_gateway_and_agent_settings_from_one_mqtt_section() -> None:
    cfg = parse_config({"site": {"id": "kg"}, "mqtt": {"url": "mqtts://u:p@broker.local:8883",
                                                        "keepalive": 30}})
    gw, agent = link_settings(cfg), agent_link_settings(cfg, "agent-pi")
    for s in (gw, agent):
        assert (s.host, s.port, s.tls, s.username, s.password) == ("broker.local", 8883, True, "u", "p")
        assert s.keepalive == 30
        assert s.persistent
    assert gw.manual_ack and gw.client_id == cfg.client_id  # acks only after the commit
    assert not agent.manual_ack and agent.client_id == "houqin-kg-agent-pi"
    sim = link_settings(cfg, client_id="houqin-sim", persistent=False)
    assert (sim.client_id, sim.persistent, sim.manual_ack) == ("houqin-sim", False, False)
