// The close form: at least one reason for contact must be ticked (checkboxes cannot say "required").
(function () {
  "use strict";
  var form = document.getElementById("close-form");
  if (!form) { return; }
  var t = JSON.parse(document.getElementById("words").textContent);
  var boxes = form.querySelectorAll("input[name=reasons]");
  function check() {
    var ticked = form.querySelectorAll("input[name=reasons]:checked").length;
    boxes[0].setCustomValidity(ticked ? "" : t.close_need_reason);
  }
  boxes.forEach(function (box) { box.addEventListener("change", check); });
  check();
})();
