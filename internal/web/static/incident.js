// Incident report form behaviour (strict CSP: no inline script). The form
// works without it; this only shows the custom fields of the chosen type
// and fills the coordinates from the device's location on request.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const type = document.getElementById("f-type");
  const custom = document.querySelectorAll(".custom-field[data-type]");
  const showCustom = () => {
    for (const f of custom) f.hidden = !type || f.dataset.type !== type.value;
  };
  if (type && custom.length) {
    type.addEventListener("change", showCustom);
    showCustom();
  }
  const geo = document.querySelector("[data-geolocate]");
  if (geo) {
    if (!("geolocation" in navigator)) {
      geo.hidden = true;
      return;
    }
    geo.addEventListener("click", () => {
      geo.disabled = true;
      navigator.geolocation.getCurrentPosition((pos) => {
        document.getElementById("f-latitude").value = pos.coords.latitude.toFixed(6);
        document.getElementById("f-longitude").value = pos.coords.longitude.toFixed(6);
        geo.disabled = false;
      }, () => { geo.disabled = false; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
});
