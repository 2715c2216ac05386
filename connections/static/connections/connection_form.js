// Show only the credential fields of the chosen authentication type.
(function () {
  "use strict";

  function chosenMethod(form) {
    var checked = form.querySelector('input[name="auth_method"]:checked');
    return checked ? checked.value : null;
  }

  function update(form) {
    var method = chosenMethod(form);
    form.querySelectorAll("fieldset.auth-method").forEach(function (fieldset) {
      var matches = method !== null && fieldset.classList.contains("auth-" + method);
      fieldset.classList.toggle("auth-hidden", !matches);
      fieldset.hidden = !matches;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("connection_form");
    if (!form) {
      return;
    }
    form.querySelectorAll('input[name="auth_method"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        update(form);
      });
    });
    update(form);
  });
})();
