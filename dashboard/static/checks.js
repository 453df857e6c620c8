// The checklist form (check.html): a photo cannot travel in the url-encoded form, so with one chosen the
// checklist goes to the JSON API with each photo scaled down to 800 px (a JPEG of ~100 kB). A "pass" the
// sensors contradict comes back as 409: the warning is shown and the "save anyway" box appears.
(function () {
  "use strict";
  var form = document.getElementById("check-form");
  if (!form) { return; }
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input.check-photo"));
  var box = document.getElementById("check-js-error");
  var confirmLabel = document.getElementById("confirm-label");

  function scaled(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();  // a data: URL (the page's CSP allows img-src data:, not blob:)
      reader.onerror = reject;
      reader.onload = function () {
        var img = new Image();
        img.onerror = reject;
        img.onload = function () {
          var scale = Math.min(1, 800 / Math.max(img.width, img.height));
          var c = document.createElement("canvas");
          c.width = Math.max(1, Math.round(img.width * scale));
          c.height = Math.max(1, Math.round(img.height * scale));
          c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
          resolve(c.toDataURL("image/jpeg", 0.8).split(",")[1]);
        };
        img.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }

  function show(text) { box.textContent = text; box.hidden = false; }

  form.addEventListener("submit", function (ev) {
    var chosen = inputs.filter(function (i) { return i.files && i.files.length; });
    if (!chosen.length) { inputs.forEach(function (i) { i.disabled = true; }); return; }
    ev.preventDefault();
    var results = {};
    form.querySelectorAll("fieldset.check-item").forEach(function (fs) {
      var id = fs.dataset.item;
      var picked = form.querySelector('input[name="result_' + id + '"]:checked');
      if (picked) {
        results[id] = { passed: picked.value === "pass", note: form.elements["note_" + id].value };
      }
    });
    Promise.all(chosen.map(function (i) {
      return scaled(i.files[0]).then(function (b64) {
        if (results[i.dataset.item]) { results[i.dataset.item].photo = b64; }
      });
    })).then(function () {
      var confirmBox = form.elements.confirm;
      return fetch(form.dataset.api, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json",
                   "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
        body: JSON.stringify({ results: results, note: form.elements.note.value,
                               confirm: !!(confirmBox && confirmBox.checked) }) });
    }).then(function (r) {
      return r.json().then(function (j) { return { status: r.status, j: j }; });
    }).then(function (res) {
      if (res.status === 201) { window.location.href = form.action + "?saved=" + res.j.id; return; }
      var d = res.j.detail;
      if (res.status === 409 && d && d.message) { show(d.message); confirmLabel.hidden = false; return; }
      show(typeof d === "string" ? d : form.dataset.failed);
    }).catch(function () { show(form.dataset.failed); });
  });
})();
