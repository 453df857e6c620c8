// Photos from the phone (hazards.html, repairs.html; check.html uses the scaling): a photo cannot travel in an
// url-encoded form, so a form of class "photo-form" with a photo chosen goes to its JSON API (data-api) with the
// photo scaled down to 800 px (a JPEG of ~100 kB); without a photo the form is posted as it is. On success the
// page goes to data-next, its {id} and {year} taken from the answer; otherwise the error shows in the form.
(function () {
  "use strict";

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
  window.HouqinPhoto = { scaled: scaled };

  function wire(form) {
    var input = form.querySelector("input.form-photo");
    var box = form.querySelector(".form-js-error");
    function show(text) { box.textContent = text; box.hidden = false; }
    form.addEventListener("submit", function (ev) {
      if (!input.files || !input.files.length) { input.disabled = true; return; }
      ev.preventDefault();
      var body = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.name !== "csrf_token" && el.type !== "file" && el.type !== "submit") { body[el.name] = el.value; }
      });
      scaled(input.files[0]).then(function (b64) {
        body.photo = b64;
        return fetch(form.dataset.api, { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json",
                     "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
          body: JSON.stringify(body) });
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, j: j }; });
      }).then(function (res) {
        if (res.ok) {
          var next = form.dataset.next.replace("{id}", res.j.id).replace("{year}", res.j.year);
          var samePage = next.split("#")[0] === window.location.pathname + window.location.search;
          window.location.href = next;
          if (samePage) { window.location.reload(); }  // only the #fragment changed: no load by itself
          return;
        }
        var d = res.j.detail;
        show(typeof d === "string" ? d : form.dataset.failed);
      }).catch(function () { show(form.dataset.failed); });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.photo-form"), wire);
})();
