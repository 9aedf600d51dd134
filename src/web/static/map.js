// The registry map: draws the items of the page (the GeoJSON API call with the page's own
// parameters) with vendored Leaflet. Items are vector layers, so they show even when the
// background tiles are off or cannot load. When done, #map gets data-markers="<count>".
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) {
    return;
  }
  var map = L.map(element, { scrollWheelZoom: false, attributionControl: true });
  // Khmelnytskyi, until the items are known.
  map.setView([49.42, 27.0], 12);
  var tiles = element.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, {
      maxZoom: 19,
      attribution: element.getAttribute("data-attribution") || ""
    }).addTo(map);
  }
  var style = { color: "#0b4f8a", weight: 3, fillColor: "#1d70b8", fillOpacity: 0.35 };
  fetch(element.getAttribute("data-geojson"), { headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("GeoJSON request answered " + response.status);
      }
      return response.json();
    })
    .then(function (collection) {
      var count = 0;
      var layer = L.geoJSON(collection, {
        style: function () { return style; },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {
            radius: 7, color: "#ffffff", weight: 2, fillColor: "#0b4f8a", fillOpacity: 0.9
          });
        },
        onEachFeature: function (feature, drawn) {
          count += 1;
          var label = document.createElement("span");
          label.textContent = String(feature.id != null ? feature.id : "");
          drawn.bindTooltip(label);
        }
      }).addTo(map);
      if (count > 0) {
        map.fitBounds(layer.getBounds(), { padding: [16, 16], maxZoom: 16 });
      }
      element.setAttribute("data-markers", String(count));
    })
    .catch(function (error) {
      element.setAttribute("data-markers", "0");
      element.setAttribute("data-error", String(error && error.message));
    });
})();
