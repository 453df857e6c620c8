// The gate desk: card decisions pushed live (refusals flagged at once, with a beep); visitor changes
// made elsewhere (an approval from a phone) refresh the lists.
(function () {
  "use strict";
  var body = document.body;
  if (!body.dataset.gateLive || !window.EventSource) { return; }
  var T = JSON.parse((document.getElementById("gate-i18n") || {}).textContent || "{}");
  var list = document.getElementById("access-list");
  var alertBox = document.getElementById("access-alert");
  var tz = (document.querySelector('meta[name="site-tz"]') || {}).content || "Asia/Shanghai";
  var fmt = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var o = ctx.createOscillator(); o.frequency.value = 660; o.connect(ctx.destination);
      o.start(); o.stop(ctx.currentTime + 0.3);
    } catch (e) { /* no audio: the red line is enough */ }
  }
  function onAccess(a) {
    var li = el("li", "acc " + (a.accepted ? "acc-ok" : "acc-refused") + " acc-new");
    li.appendChild(el("time", "", fmt.format(new Date(a.ts * 1000))));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("b", "", a.accepted ? T.accepted : T.refused));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "", a.holder || T.unknown_card));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("code", "", a.uid));
    var extra = a.reader + (a.accepted ? "" : " · " + (T[a.reason] || a.reason)) + (a.decided === "agent" ? " · " + T.offline : "");
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "muted", extra));
    list.insertBefore(li, list.firstChild);
    var none = document.getElementById("no-access");
    if (none) { none.hidden = true; }
    if (!a.accepted) {
      alertBox.textContent = T.refused_alert + ": " + (a.holder || T.unknown_card) + " " + a.uid + " · " + (T[a.reason] || a.reason) + " · " + a.reader;
      alertBox.hidden = false;
      beep();
    }
  }
  var reloadTimer = null;
  function onVisitor() {
    // another device changed a visitor (an approval by link): refresh, unless the guard is typing
    var typing = document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
    if (typing) { return; }
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(function () { window.location.reload(); }, 300);
  }
  var es = new EventSource("/api/live");
  es.addEventListener("hello", function () { body.dataset.liveReady = "1"; });
  es.addEventListener("gate_access", function (m) { onAccess(JSON.parse(m.data)); });
  es.addEventListener("gate_visitor", onVisitor);
  es.addEventListener("logout", function () { es.close(); });
  es.onerror = function () { body.dataset.liveReady = ""; };
})();
