// posthub — a little vanilla JavaScript; every page works without it.
(function () {
  "use strict";

  // Forms that undo something ask first: <form data-confirm="Release this hold?">.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      ev.preventDefault();
    }
  });

  // Forms whose answer can take a while say so: <form data-busy="Planning…">. Once
  // sent, a second press does not send it again, and if the answer has not come
  // within 300 ms the form shows the text with a progress bar.
  document.addEventListener("submit", function (ev) {
    var form = ev.target, text = form.getAttribute && form.getAttribute("data-busy");
    if (!text || ev.defaultPrevented) {
      return;
    }
    if (form.getAttribute("aria-busy") === "true") {
      ev.preventDefault();
      return;
    }
    form.setAttribute("aria-busy", "true");
    form.busyTimer = setTimeout(function () {
      var status = form.querySelector(".busy");
      if (!status) {
        status = document.createElement("p");
        status.className = "busy";
        status.setAttribute("role", "status");
        form.appendChild(status);
      }
      status.replaceChildren(document.createElement("progress"), document.createTextNode(" " + text));
      status.hidden = false;
    }, 300);
  });
  // Back to a page kept in the browser's cache: the form is ready again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy=true]").forEach(function (form) {
      clearTimeout(form.busyTimer);
      form.removeAttribute("aria-busy");
      form.querySelectorAll(".busy").forEach(function (x) { x.hidden = true; });
    });
  });

  // The hold form names the zone of the chosen resource's site, since the times typed
  // are that site's wall-clock.
  function showZone(select) {
    var target = document.getElementById(select.getAttribute("data-zone-target"));
    if (!target) {
      return;
    }
    var opt = select.options[select.selectedIndex];
    target.textContent = opt && opt.getAttribute("data-zone") ? opt.getAttribute("data-zone") : "";
  }
  document.querySelectorAll("select[data-zone-target]").forEach(function (select) {
    showZone(select);
    select.addEventListener("change", function () { showZone(select); });
  });

  // Hold form: keep the end after the start when the start moves past it.
  var start = document.getElementById("start_local");
  var end = document.getElementById("end_local");
  if (start && end) {
    start.addEventListener("change", function () {
      if (start.value && (!end.value || end.value <= start.value)) {
        var d = new Date(start.value + ":00Z");
        if (!isNaN(d)) {
          d.setUTCHours(d.getUTCHours() + 4);
          end.value = d.toISOString().slice(0, 16);
        }
      }
    });
  }

  // Plan form: the pipeline follows the chosen production's format until a person
  // picks one by hand.
  var production = document.getElementById("plan-production");
  var pipeline = document.getElementById("plan-template");
  if (production && pipeline) {
    var picked = false;
    pipeline.addEventListener("change", function () { picked = true; });
    production.addEventListener("change", function () {
      var opt = production.options[production.selectedIndex];
      var format = opt && opt.getAttribute("data-format");
      if (!picked && format) {
        for (var i = 0; i < pipeline.options.length; i++) {
          if (pipeline.options[i].value === format) {
            pipeline.value = format;
          }
        }
      }
    });
  }
})();
