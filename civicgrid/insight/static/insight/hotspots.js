// The hotspot map: each grid coloured by its Gi* level; the popup gives its reports and z.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("hotspot-data").textContent);
  var colours = { hot99: "#b2182b", hot95: "#ef8a62", cold95: "#67a9cf", cold99: "#2166ac", "": "#f7f7f7" };
  var map = L.map("hotspot-map", { zoomSnap: 0.25 });
  var layer = L.geoJSON(data, {
    style: function (f) {
      return { color: "#777", weight: 0.5, fillColor: colours[f.properties.level], fillOpacity: 0.75 };
    },
    onEachFeature: function (f, l) {
      var p = f.properties;
      var div = document.createElement("div");
      div.textContent = p.name + " · " + p.cases + " · z = " + p.z.toFixed(2);
      l.bindPopup(div);
    }
  }).addTo(map);
  if (data.features.length) { map.fitBounds(layer.getBounds()); } else { map.setView([32.05, 118.8], 12); }
})();
