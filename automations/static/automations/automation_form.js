// The automation form: show the chosen trigger's options and each step's chosen action's
// inputs, offer the sample record's fields (and earlier steps' outputs) as references to
// insert, and show one more step on "Add a step". No framework; the page works without it.
(function () {
  "use strict";

  var data = null;

  function showOnly(container, attribute, value) {
    container.querySelectorAll("[" + attribute + "]").forEach(function (node) {
      node.hidden = node.getAttribute(attribute) !== value;
    });
  }

  function option(value, text) {
    var node = document.createElement("option");
    node.value = value;
    node.textContent = text;
    return node;
  }

  function chosenActions(form) {
    var actions = {};
    form.querySelectorAll("fieldset.automation-step").forEach(function (step) {
      var select = step.querySelector('select[name$="-action"]');
      var removed = step.querySelector('input[name$="-remove"]');
      if (!step.hidden && select && select.value && !(removed && removed.checked)) {
        actions[step.getAttribute("data-step")] = select.value;
      }
    });
    return actions;
  }

  // Steps are numbered as they will be saved: used slots in order, blanks left out.
  function positions(form) {
    var actions = chosenActions(form);
    var result = {};
    var position = 0;
    Object.keys(actions)
      .map(Number)
      .sort(function (a, b) { return a - b; })
      .forEach(function (slot) {
        position += 1;
        result[slot] = { position: position, action: actions[slot] };
      });
    return result;
  }

  function buildPicker(form, stepNode) {
    var picker = document.createElement("select");
    picker.className = "reference-picker";
    picker.setAttribute("aria-label", "Insert a field");
    picker.appendChild(option("", "Insert a field…"));
    var record = document.createElement("optgroup");
    record.label = "The trigger's record";
    (data.sample.fields || []).forEach(function (pair) {
      var label = pair[1] ? pair[0] + " — " + pair[1] : pair[0];
      record.appendChild(option("trigger." + pair[0], label));
    });
    picker.appendChild(record);
    var slot = Number(stepNode.getAttribute("data-step"));
    var used = positions(form);
    Object.keys(used)
      .map(Number)
      .filter(function (other) { return other < slot; })
      .forEach(function (other) {
        var step = used[other];
        var group = document.createElement("optgroup");
        group.label = "Step " + step.position + "'s output";
        (data.outputs[step.action] || ["id"]).forEach(function (name) {
          group.appendChild(option("steps." + step.position + "." + name, name));
        });
        picker.appendChild(group);
      });
    return picker;
  }

  function insertReference(input, reference) {
    var text = "{{ " + reference + " }}";
    var start = input.selectionStart === null ? input.value.length : input.selectionStart;
    var end = input.selectionEnd === null ? input.value.length : input.selectionEnd;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    input.focus();
    input.selectionStart = input.selectionEnd = start + text.length;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function refreshPickers(form) {
    form.querySelectorAll("fieldset.automation-step").forEach(function (stepNode) {
      stepNode.querySelectorAll(".reference-field").forEach(function (field) {
        var input = field.querySelector("input[data-input], textarea[data-input]");
        if (!input) {
          return;
        }
        var old = field.querySelector("select.reference-picker");
        var picker = buildPicker(form, stepNode);
        picker.addEventListener("change", function () {
          if (picker.value) {
            insertReference(input, picker.value);
            picker.value = "";
          }
        });
        if (old) {
          old.replaceWith(picker);
        } else {
          input.insertAdjacentElement("afterend", picker);
        }
      });
    });
  }

  function showSample(sample) {
    data.sample = sample;
    var note = document.getElementById("sample-note");
    if (note) {
      note.textContent = sample.note || "";
    }
    var body = document.querySelector("#sample-field-list tbody");
    if (body) {
      body.textContent = "";
      sample.fields.forEach(function (pair) {
        var row = document.createElement("tr");
        var path = document.createElement("td");
        var code = document.createElement("code");
        code.textContent = "trigger." + pair[0];
        path.appendChild(code);
        var example = document.createElement("td");
        example.textContent = pair[1];
        row.appendChild(path);
        row.appendChild(example);
        body.appendChild(row);
      });
    }
  }

  function loadSample(form) {
    var trigger = form.querySelector("#id_trigger_id").value;
    var connection = form.querySelector("#id_connection").value;
    if (!trigger) {
      return;
    }
    var url = data.sampleUrl + "?trigger=" + encodeURIComponent(trigger) +
      "&connection=" + encodeURIComponent(connection);
    form.setAttribute("data-sample", "loading");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (sample) {
        showSample(sample);
        refreshPickers(form);
        form.setAttribute("data-sample", sample.source);
      })
      .catch(function () {
        form.setAttribute("data-sample", "failed");
      });
  }

  function showNextStep(form) {
    var hidden = form.querySelector("fieldset.automation-step[hidden]");
    if (hidden) {
      hidden.hidden = false;
      hidden.querySelector('select[name$="-action"]').focus();
    }
    document.getElementById("add-step").hidden = !form.querySelector("fieldset.automation-step[hidden]");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("automation_form");
    var script = document.getElementById("automation-form-data");
    if (!form || !script) {
      return;
    }
    data = JSON.parse(script.textContent);
    var triggerSelect = form.querySelector("#id_trigger_id");
    var trigger = document.getElementById("automation-trigger");
    triggerSelect.addEventListener("change", function () {
      showOnly(trigger, "data-trigger", triggerSelect.value);
      loadSample(form);
    });
    form.querySelector("#id_connection").addEventListener("change", function () {
      loadSample(form);
    });
    form.querySelectorAll("fieldset.automation-step").forEach(function (stepNode) {
      var select = stepNode.querySelector('select[name$="-action"]');
      select.addEventListener("change", function () {
        showOnly(stepNode, "data-action", select.value);
        refreshPickers(form);
      });
      var removed = stepNode.querySelector('input[name$="-remove"]');
      if (removed) {
        removed.addEventListener("change", function () { refreshPickers(form); });
      }
    });
    var add = document.getElementById("add-step");
    if (add) {
      add.hidden = !form.querySelector("fieldset.automation-step[hidden]");
      add.addEventListener("click", function () {
        showNextStep(form);
        refreshPickers(form);
      });
    }
    refreshPickers(form);
    loadSample(form);
  });
})();
