// The period form of the indicator pages: a month, a quarter or a date range, of which the server
// takes the range first, then the quarter. Filling one kind empties the others, so what the reader
// last chose is what they get.
(function () {
  "use strict";
  var form = document.querySelector("[data-period-form]");
  if (!form) return;
  var kinds = {month: ["month"], quarter: ["quarter"], date_from: ["date_from", "date_to"], date_to: ["date_from", "date_to"]};
  Object.keys(kinds).forEach(function (name) {
    var input = form.elements[name];
    if (!input) return;
    input.addEventListener("change", function () {
      if (!input.value) return;
      Object.keys(kinds).forEach(function (other) {
        if (kinds[name].indexOf(other) === -1 && form.elements[other]) form.elements[other].value = "";
      });
    });
  });
})();
