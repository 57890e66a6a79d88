/*
 * The what-if simulator (pages/director/simulation.html): after htmx swaps the simulated
 * result, show or hide the questions that apply to the simulated answers and announce the
 * palier. Optional: without JavaScript the form posts and the page comes back whole.
 */
(function () {
  "use strict";

  function update() {
    var info = document.getElementById("sim-visibility");
    if (!info) return;
    var hidden = (info.getAttribute("data-hidden") || "").split(" ").filter(Boolean);
    document.querySelectorAll(".palier-sim-question").forEach(function (box) {
      box.hidden = hidden.indexOf(box.id.slice(4)) !== -1;
    });
    var announce = document.getElementById("sim-announce");
    if (announce) announce.textContent = info.getAttribute("data-announce") || "";
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "sim-result") update();
  });
})();
