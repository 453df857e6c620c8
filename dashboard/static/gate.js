// The gate desk: card decisions pushed live (refusals flagged at once, with a beep); visitor changes
// made elsewhere (an approval from a phone) refresh the lists.
(function () {
  "use strict";
  var body = document.body;
  var printButton = document.getElementById("print");  // the roll call (inline handlers are barred by the CSP)
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }
  if (!body.dataset.gateLive || !window.EventSource) { return; }
  var T = JSON.parse((document.getElementById("gate-i18n") || {}).textContent || "{}");
  var NAMES = JSON.parse((document.getElementById("gate-names") || {}).textContent || "{}");
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
    var extra = (NAMES[a.reader] || a.reader) + (a.accepted ? "" : " · " + (T[a.reason] || a.reason)) + (a.decided === "agent" ? " · " + T.offline : "");
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
  // A photo cannot travel in the url-encoded form: with one chosen, the visitor goes to the JSON API with
  // the photo scaled down to 800 px (a JPEG of ~100 kB), then the desk reloads.
  var form = document.getElementById("visitor-form");
  var photo = document.getElementById("photo");
  if (form && photo) {
    form.addEventListener("submit", function (ev) {
      if (!photo.files || !photo.files.length) { photo.disabled = true; return; }
      ev.preventDefault();
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 800 / Math.max(img.width, img.height));
        var c = document.createElement("canvas");
        c.width = Math.round(img.width * scale); c.height = Math.round(img.height * scale);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        var body = {};
        ["name", "phone", "organisation", "purpose", "host", "id_number"].forEach(function (k) { body[k] = form.elements[k].value; });
        body.photo = c.toDataURL("image/jpeg", 0.8).split(",")[1];
        fetch("/api/gate/visitors", { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json",
                     "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
          body: JSON.stringify(body) })
          .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
          .then(function (res) {
            if (!res.ok) { alertBox.textContent = res.j.detail || "error"; alertBox.hidden = false; return; }
            window.location.href = "/gate/desk" + (res.j.watch ? "?warning=" + res.j.id : "");
          });
      };
      var reader = new FileReader();  // a data: URL (the page's CSP allows img-src data:, not blob:)
      reader.onload = function () { img.src = reader.result; };
      reader.readAsDataURL(photo.files[0]);
    });
  }
  var es = new EventSource("/api/live");
  es.addEventListener("hello", function () { body.dataset.liveReady = "1"; });
  es.addEventListener("gate_access", function (m) { onAccess(JSON.parse(m.data)); });
  es.addEventListener("gate_visitor", onVisitor);
  es.addEventListener("logout", function () { es.close(); });
  es.onerror = function () { body.dataset.liveReady = ""; };
})();
