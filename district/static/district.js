// The district Overview stays live: the table is fetched again every few seconds (server-rendered, translated).
(function () {
  "use strict";
  var box = document.getElementById("district-sites");
  if (!box) return;
  var EVERY_MS = 3000;
  function refresh() {
    fetch(box.dataset.refresh, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/login"); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) { box.innerHTML = html; box.dataset.refreshed = String(Date.now()); }
      })
      .catch(function () { /* the next round tries again */ })
      .then(function () { setTimeout(refresh, EVERY_MS); });
  }
  setTimeout(refresh, EVERY_MS);
})();
