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

  var scaled = window.HouqinPhoto.scaled;  // photo_form.js

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
