// Conversations where the bot asked "are you in danger right now?" (level "possible"): listed, not paged.
(function () {
  "use strict";
  var t = JSON.parse(document.getElementById("words").textContent);
  var section = document.getElementById("possible-risk");
  var body = document.querySelector("#possible tbody");

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function render(items) {
    body.textContent = "";
    section.hidden = items.length === 0;
    items.forEach(function (item) {
      var row = document.createElement("tr");
      row.className = "possible " + (item.answer || "waiting");
      cell(row, t.level_possible);
      cell(row, item.channel);
      cell(row, item.kind ? (t["risk_" + item.kind] || item.kind) : "");
      cell(row, t.ago.replace("{n}", Math.floor(item.ago / 60)));
      cell(row, item.emergency ? t.possible_emergency : t["possible_" + (item.answer || "waiting")]);
      body.appendChild(row);
    });
  }

  function refresh() {
    fetch("/console/api/possible", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); }).then(render).catch(function () {});
  }

  refresh();
  (window.consoleEvents || new EventSource("/console/events")).addEventListener("change", refresh);
  setInterval(refresh, 30000);
})();
