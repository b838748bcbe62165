/*
 * The report-in form takes the phone's position (WGS-84, as browsers give it) into its hidden
 * lon/lat fields when the person allows it; without it the report-in goes without a point.
 */
(function () {
  "use strict";
  const form = document.querySelector("#report-in form");
  if (!form || !navigator.geolocation) return;
  const status = form.querySelector("[data-role=position]");
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      form.querySelector("input[name=lon]").value = pos.coords.longitude.toFixed(7);
      form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(7);
      if (status) status.hidden = false;
    },
    () => {},
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
  );
})();
