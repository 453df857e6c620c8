// Houqin dashboard: live updates (server-sent events), charts (uPlot) and alert sounds.
// No inline scripts anywhere (the CSP forbids them); every string shown comes from the server's catalogs.
(function () {
  "use strict";
  var body = document.body;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var tz = (document.querySelector('meta[name="site-tz"]') || {}).content || "UTC";
  var locale = (document.querySelector('meta[name="locale"]') || {}).content || "zh-CN";
  var T = {};
  try { T = JSON.parse(document.getElementById("i18n").textContent); } catch (e) { T = {}; }
  function t(key) { return T[key] || key; }
  var timeFmt = new Intl.DateTimeFormat(locale, { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  var hourFmt = new Intl.DateTimeFormat(locale, { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });
  var dayFmt = new Intl.DateTimeFormat(locale, { timeZone: tz, month: "numeric", day: "numeric" });
  var compactFmt = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
  // one formatter per number of digits: building an Intl.NumberFormat costs more than using it, per reading
  var numFmts = {};
  var numFmt = function (v, d) {
    var f = numFmts[d] || (numFmts[d] = new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d }));
    return f.format(v);
  };
  // "5 minutes ago" that keeps counting: every [data-ago] element (a Unix time) is re-rendered in the
  // user's language, so a page left open at the gate never shows a stale "0 seconds ago"
  var relFmt = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(locale, { numeric: "auto" }) : null;
  function ago(ts) {
    var s = Math.max(0, Math.round(Date.now() / 1000 - ts));
    if (!relFmt) return timeFmt.format(new Date(ts * 1000));
    if (s < 60) return relFmt.format(-s, "second");
    if (s < 3600) return relFmt.format(-Math.floor(s / 60), "minute");
    if (s < 86400) return relFmt.format(-Math.floor(s / 3600), "hour");
    return relFmt.format(-Math.floor(s / 86400), "day");
  }
  function tickAgo() {
    document.querySelectorAll("[data-ago]").forEach(function (n) {
      var ts = Number(n.dataset.ago);
      if (n.dataset.ago !== "" && isFinite(ts)) n.textContent = ago(ts);
    });
  }
  setInterval(tickAgo, 15000);
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // -- sound: a short two-tone beep with WebAudio (no audio file needed) ----------------------
  var audioCtx = null;
  function audio() {
    try { audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audioCtx = null; }
    return audioCtx;
  }
  function beep() {
    body.dataset.beeps = String(Number(body.dataset.beeps || 0) + 1);
    try {
      audio();
      [0, 0.35].forEach(function (at, i) {
        var o = audioCtx.createOscillator(), g = audioCtx.createGain();
        o.frequency.value = i ? 660 : 880; o.connect(g); g.connect(audioCtx.destination);
        g.gain.setValueAtTime(0.25, audioCtx.currentTime + at);
        o.start(audioCtx.currentTime + at); o.stop(audioCtx.currentTime + at + 0.25);
      });
    } catch (e) { /* no audio device: the banner still shows */ }
  }
  // Browsers keep sound off until someone touches the page; a tablet left on the gate page after
  // logging in would stay silent. Say so, with a button that turns it on.
  function offerSound() {
    var ctx = audio(), main = document.querySelector("main");
    if (!ctx || !main || ctx.state !== "suspended") return;
    var button = el("button", "sound-off", t("sound_off"));
    button.type = "button"; button.id = "sound-on";
    button.addEventListener("click", function () { ctx.resume(); });
    main.insertBefore(button, main.firstChild);
    ctx.onstatechange = function () { if (ctx.state === "running") button.remove(); };
  }
  document.addEventListener("click", function () {
    if (audioCtx && audioCtx.state === "suspended") audioCtx.resume();
  });
  if (body.dataset.live === "gate" || body.dataset.live === "cold_storage") offerSound();

  // -- banner ---------------------------------------------------------------------------------
  var banner = document.getElementById("live-banner");
  function showBanner(text, info) {
    if (!banner) return;
    banner.textContent = text;
    banner.classList.toggle("info", !!info);
    banner.hidden = false;
  }

  // -- live values ----------------------------------------------------------------------------
  function onReading(r) {
    var nodes = document.querySelectorAll('[data-device="' + CSS.escape(r.device) + '"][data-metric="' + CSS.escape(r.metric) + '"]');
    nodes.forEach(function (n) {
      if (n.classList.contains("chart")) { appendToChart(n, r); return; }
      if (n.classList.contains("gate-state")) { setGate(n, r.value >= 0.5, r.ts); return; }
      var d = Number(n.dataset.digits || 1);
      n.textContent = numFmt(r.value, d);
      n.classList.add("changed");
      setTimeout(function () { n.classList.remove("changed"); }, 1500);
    });
    document.querySelectorAll('[data-seen="' + CSS.escape(r.device) + '"]').forEach(function (n) {
      n.dataset.ago = String(r.ts);
      n.textContent = ago(r.ts);
    });
  }
  function setGate(n, open, ts) {
    var was = n.classList.contains("is-open");
    // a change between two known states is an "opened"/"closed" line in the event stream, as after a reload
    if (!n.classList.contains("is-unknown") && was !== open) {
      var gname = n.querySelector(".gate-name");
      addEvent(eventLine("ev ev-" + (open ? "open" : "closed") + " fresh", ts, t(open ? "open" : "closed"),
        gname ? gname.textContent : nameOf(n.dataset.device)));
    }
    n.classList.toggle("is-open", open);
    n.classList.toggle("is-closed", !open);
    n.classList.remove("is-unknown");
    n.querySelector(".gate-now").textContent = open ? (T.gate_open || "OPEN") : (T.gate_closed || "CLOSED");
    if (was !== open || !n.dataset.since) {
      n.dataset.since = String(ts);
      var since = n.querySelector(".gate-since");
      since.textContent = t("since") + " " + timeFmt.format(new Date(ts * 1000)) + " (";
      var rel = el("span", null, ago(ts));
      rel.dataset.ago = String(ts);
      since.appendChild(rel);
      since.appendChild(document.createTextNode(")"));
    }
  }
  // the gate page's device names (a line shows "Main gate", not "gate")
  var names = {};
  try { names = JSON.parse(document.getElementById("device-names").textContent); } catch (e) { names = {}; }
  function nameOf(id) { return names[id] || id; }
  // a card read and the gate's decision on it share this key, so the decision replaces the bare read
  function cardKey(device, uid, ts) { return device + "|" + uid + "|" + Number(ts).toFixed(3); }
  function eventLine(cls, ts, what, who, uid) {
    var li = el("li", cls);
    li.appendChild(el("time", null, timeFmt.format(new Date(ts * 1000))));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("b", null, what));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", null, who));
    if (uid) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("code", null, uid)); }
    return li;
  }
  function addEvent(li, replaces) {
    var list = document.getElementById("event-list");
    if (!list) return;
    if (replaces) list.replaceChild(li, replaces); else list.insertBefore(li, list.firstChild);
    while (list.children.length > 100) list.removeChild(list.lastChild);
    var none = document.getElementById("no-events");
    if (none) none.hidden = true;
  }
  function keyed(key) {
    var list = document.getElementById("event-list");
    return list ? list.querySelector('li[data-key="' + CSS.escape(key) + '"]') : null;
  }
  function onEvent(e) {
    if (!document.getElementById("event-list")) return;
    var uid = e.data && e.data.uid ? String(e.data.uid) : "";
    var key = uid ? cardKey(e.device, uid, e.ts) : "";
    if (key && keyed(key)) return;  // the gate's decision on this card arrived first
    var li = eventLine("ev ev-" + e.type + " fresh", e.ts, t(e.type), nameOf(e.device), uid);
    if (key) li.dataset.key = key;
    addEvent(li);
  }

  // a card decision (gate page): accepted cards with the holder; a refusal is told at once, with the
  // sound, and marked in the event list
  function onAccess(a) {
    if (!document.getElementById("event-list")) return;
    var key = cardKey(a.reader, a.uid, a.ts), who = a.holder || t("unknown_card");
    var reason = T["reason_" + a.reason] || a.reason;
    var li = a.accepted
      ? eventLine("ev ev-card ev-accepted fresh", a.ts, t("card_accepted"), who + " · " + nameOf(a.reader), a.uid)
      : eventLine("ev ev-card ev-refused fresh", a.ts, t("card_refused"),
        who + " · " + (a.holder || a.reason !== "unknown" ? reason + " · " : "") + nameOf(a.reader), a.uid);
    li.dataset.key = key;
    addEvent(li, keyed(key));
    if (a.accepted) return;
    showBanner(t("card_refused") + ": " + who + " " + a.uid + " · " + reason + " · " + nameOf(a.reader));
    beep();
  }

  // -- alerts ---------------------------------------------------------------------------------
  function alertCard(a, back, canAck) {
    var art = el("article", "alert fresh sev-" + a.severity + " state-" + a.state);
    art.dataset.alertId = a.id;
    var h = el("header");
    h.appendChild(el("span", "sev", t(a.severity)));
    var link = el("a", "title", (a.device_name || a.device) + " · " + (a.rule_name || a.rule));
    link.href = "/alerts/" + encodeURIComponent(a.id);
    h.appendChild(link);
    h.appendChild(el("span", "state", t(a.state)));
    art.appendChild(h);
    if (a.detail) art.appendChild(el("p", "detail", a.detail_text || a.detail));
    var when = el("p", "muted small", t("since") + " " + timeFmt.format(new Date(a.since * 1000)) + " (");
    var rel = el("span", null, ago(a.opened_at || a.since));
    rel.dataset.ago = String(a.opened_at || a.since);
    when.appendChild(rel);
    when.appendChild(document.createTextNode(")"));
    art.appendChild(when);
    if (canAck && a.state === "active") {
      var f = el("form", "ack");
      f.method = "post"; f.action = "/alerts/" + encodeURIComponent(a.id) + "/ack";
      var c = el("input"); c.type = "hidden"; c.name = "csrf_token"; c.value = csrf; f.appendChild(c);
      var b = el("input"); b.type = "hidden"; b.name = "back"; b.value = back; f.appendChild(b);
      var note = el("input"); note.name = "note"; note.placeholder = t("note"); note.maxLength = 2000;
      note.required = true;  // the corrective action; the server refuses an empty note too
      note.setAttribute("aria-label", t("note")); f.appendChild(note);
      f.appendChild(el("button", "primary", t("acknowledge")));
      art.appendChild(f);
    }
    return art;
  }
  // the areas whose alerts this user may acknowledge ("*": all), as the server decides for its own cards
  function mayAck(area) {
    if (body.dataset.canAck === "no") return false;
    var areas = (body.dataset.ackAreas || "").split(",");
    return areas.indexOf("*") >= 0 || areas.indexOf(area) >= 0;
  }
  // The Overview's area lights follow alerts and devices going offline: the server renders them again
  // (same texts, same language) and the page swaps them in, at most once every 2 s.
  var areasTimer = null;
  function refreshAreas() {
    if (!document.querySelector("section.areas") || areasTimer) return;
    areasTimer = setTimeout(function () {
      areasTimer = null;
      fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("section.areas");
          var now = document.querySelector("section.areas");
          if (fresh && now) { now.replaceWith(document.importNode(fresh, true)); tickAgo(); }
        })
        .catch(function () { /* the next change tries again */ });
    }, 2000);
  }
  function onAlert(a) {
    refreshAreas();
    var list = document.getElementById("alert-list");
    if (list) {
      var area = list.dataset.area;
      var existing = list.querySelector('[data-alert-id="' + CSS.escape(String(a.id)) + '"]');
      // a filtered Alerts page takes only the live alerts its filter would show
      var severity = list.dataset.severity, state = list.dataset.state;
      var relevant = (!area || area === a.area) && (!severity || severity === a.severity) &&
        (!state || state === "recent" || state === "open" || state === "all" || state === a.state);
      if (existing) existing.remove();
      if (relevant && a.state !== "cleared") {
        list.insertBefore(alertCard(a, list.dataset.back || "/alerts", mayAck(a.area)), list.firstChild);
      }
      var empty = list.querySelector(".empty");
      if (empty) empty.hidden = !!list.querySelector(".alert");
    }
    // a forced or held-open gate is also a line of the gate page's event stream
    var alarmLine = { gate_forced: "forced", gate_held_open: "held_open" }[a.kind];
    if (a.change === "opened" && alarmLine) {
      addEvent(eventLine("ev ev-" + alarmLine + " fresh", a.opened_at || a.since, t(alarmLine), a.device_name || nameOf(a.device)));
    }
    if (a.change === "opened") {
      showBanner(t("new_alert") + ": " + (a.device_name || a.device) + " · " + (a.rule_name || a.rule) +
        (a.detail ? " — " + (a.detail_text || a.detail) : ""));
      if (body.dataset.live === "gate" || a.severity === "critical" || a.severity === "major") beep();
    }
  }

  // -- charts ---------------------------------------------------------------------------------
  var charts = [];
  function chartWidth(node) { return Math.max(200, Math.floor(node.getBoundingClientRect().width)); }
  function drawChart(node) {
    if (typeof uPlot === "undefined") return;
    var hours = Number(node.dataset.hours || 24), every = node.dataset.every, fn = node.dataset.fn || "mean";
    var now = Date.now() / 1000, start = now - hours * 3600;
    var url = "/api/devices/" + encodeURIComponent(node.dataset.device) + "/readings?metric=" +
      encodeURIComponent(node.dataset.metric) + "&start=" + start + "&fn=" + fn + (every ? "&every=" + every : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        node.textContent = "";
        if (!data.ts.length) { node.appendChild(el("p", "muted small", t("no_data"))); return; }
        var xs = data.ts.slice(), ys = data.values.slice();
        var series = [{}, { label: node.dataset.metric, stroke: "#1d5fbf", width: 2,
          fill: node.dataset.bars ? "rgba(29,95,191,.35)" : "rgba(29,95,191,.08)",
          points: { show: !node.dataset.bars && xs.length < 60 },
          paths: node.dataset.bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 60] }) : undefined }];
        var cols = [xs, ys];
        ["low", "high"].forEach(function (k) {
          var v = node.dataset[k];
          if (v !== undefined && v !== "") {
            cols.push(xs.map(function () { return Number(v); }));
            series.push({ label: t("limit"), stroke: "#d0312d", dash: [6, 4], width: 1.5, points: { show: false } });
          }
        });
        var opts = {
          width: chartWidth(node), height: 170, legend: { show: false },
          tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); },
          // bars (usage per hour/day) start at zero, else a day of 4,000 L next to one of 4,400 L looks like a tenth
          // the x axis spans the window asked for, from the data (readings appended live included): uPlot
          // widens a single reading's min = max into years, so its min and max are not used ("00:00 00:00 00:00")
          scales: { x: { time: true, range: function () {
            return [Math.min(start, xs[0]), Math.max(xs[xs.length - 1], Date.now() / 1000)];
          } }, y: node.dataset.bars ? { range: function (u, min, max) {
            return [Math.min(0, min), max > 0 ? max * 1.05 : 1];
          } } : {} }, series: series,
          axes: [{ stroke: "#5d6b7a", grid: { stroke: "#eef1f4" }, values: function (u, splits) {
                   var fmt = hours > 48 ? dayFmt : hourFmt;
                   var labels = splits.map(function (v) { return fmt.format(new Date(v * 1000)); });
                   node.dataset.xTicks = labels.join("|");  // for the browser tests (the axis is drawn on a canvas)
                   return labels;
                 } },
                 { stroke: "#5d6b7a", grid: { stroke: "#eef1f4" }, size: 56, values: function (u, splits) {
                   return splits.map(function (v) { return compactFmt.format(v); });
                 } }],
        };
        // what the y axis starts at, for the browser tests (uPlot sets its scales after construction)
        opts.hooks = { setScale: [function (u, key) { if (key === "y") node.dataset.yMin = String(u.scales.y.min); }] };
        var plot = new uPlot(opts, cols, node);
        charts.push({ node: node, plot: plot, cols: cols, live: !every });
      })
      .catch(function () { /* the page still shows the numbers */ });
  }
  function appendToChart(node, r) {
    charts.forEach(function (c) {
      if (c.node !== node || !c.live) return;
      c.cols[0].push(r.ts); c.cols[1].push(r.value);
      for (var i = 2; i < c.cols.length; i++) c.cols[i].push(c.cols[i][0]);
      c.plot.setData(c.cols);
    });
  }
  document.querySelectorAll(".chart").forEach(drawChart);
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.plot.setSize({ width: chartWidth(c.node), height: 170 }); });
  });

  // -- the live stream --------------------------------------------------------------------------
  var loggedOut = false, lostAt = 0;
  // Alerts opened while the stream was down were never pushed: fetch the open ones and add those the
  // page lacks (with banner and sound when they opened during the gap).
  function catchUp(since) {
    if (!document.getElementById("alert-list")) return;
    fetch("/api/alerts?state=open", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (open) {
        var list = document.getElementById("alert-list");
        open.slice().reverse().forEach(function (a) {
          if (list.querySelector('[data-alert-id="' + CSS.escape(String(a.id)) + '"]')) return;
          a.change = a.opened_at >= since - 5 ? "opened" : "missed";
          onAlert(a);
        });
      })
      .catch(function () { /* the next reconnect tries again */ });
  }
  function connect() {
    var es = new EventSource("/api/live");
    es.addEventListener("hello", function () {
      body.dataset.liveReady = "1";
      if (banner && banner.classList.contains("info")) banner.hidden = true;
      if (lostAt) { catchUp(lostAt); lostAt = 0; }
    });
    es.addEventListener("reading", function (m) { onReading(JSON.parse(m.data)); });
    es.addEventListener("event", function (m) { onEvent(JSON.parse(m.data)); });
    es.addEventListener("alert", function (m) { onAlert(JSON.parse(m.data)); });
    es.addEventListener("gate_access", function (m) { onAccess(JSON.parse(m.data)); });
    es.addEventListener("availability", function (m) {
      var a = JSON.parse(m.data);
      document.querySelectorAll('[data-online="' + CSS.escape(a.device) + '"]').forEach(function (n) { n.textContent = t(a.online ? "online" : "offline"); });
      refreshAreas();
    });
    es.addEventListener("logout", function () { loggedOut = true; es.close(); showBanner(t("logged_out"), true); });
    es.onerror = function () {
      // the guard must know the screen is not live while it is not
      body.dataset.liveReady = "";
      if (loggedOut) return;
      if (!lostAt) lostAt = Date.now() / 1000;
      showBanner(t("disconnected"), true);
      if (es.readyState !== EventSource.CLOSED) return;  // a dropped stream: the browser reconnects by itself
      // an HTTP error (session ended, too many tabs, server restarting) closes it for good: find out which
      fetch("/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.status; }, function () { return 0; })
        .then(function (status) {
          if (status === 401) { loggedOut = true; showBanner(t("logged_out"), true); return; }
          setTimeout(connect, 10000);
        });
    };
  }
  if (body.dataset.live && window.EventSource) connect();
})();
