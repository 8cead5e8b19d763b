// DispatchDesk's map of the day: the board's tickets coloured by phase, each technician at
// their position with their route through the day's jobs, refreshed every 15 s.
//
// Everything comes from /dispatch/map/data (JSON): nothing is read from the page but the
// data URL, and every text is put in with textContent, never parsed as HTML. The same data
// is listed in the page below the map for screen readers and browsers without scripts.
import {
  Control,
  DomUtil,
  circleMarker,
  divIcon,
  latLngBounds,
  layerGroup,
  map as createMap,
  marker,
  polyline,
  tileLayer,
} from "/static/vendor/leaflet/leaflet-src.esm.js";

const REFRESH_MS = 15000;
const PALETTE_SIZE = 8;

const root = document.getElementById("day-map");
const status = document.getElementById("map-status");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function say(text) {
  if (status) status.textContent = text;
}

/** A definition list of label/value pairs. */
function facts(pairs) {
  const dl = el("dl", "popup-facts");
  for (const [label, value] of pairs) {
    dl.append(el("dt", "", label), el("dd", "", value || "—"));
  }
  return dl;
}

function ticketPopup(t, day) {
  const box = el("div", "map-popup");
  const head = el("p", "popup-head");
  const link = el("a", "popup-key", t.key);
  link.href = `/dispatch/assign/${encodeURIComponent(t.key)}?day=${encodeURIComponent(day)}`;
  const phase = el("span", "popup-phase");
  phase.append(el("span", `dot phase-${t.colour}`), document.createTextNode(t.label));
  head.append(link, " ", phase);
  box.append(
    head,
    el("p", "popup-summary", t.summary),
    facts([
      ["Assignee", t.assignee ?? "Unassigned"],
      ["Scheduled", t.time],
      ["Address", t.address],
      ["Status", t.status],
    ]),
  );
  return box;
}

function techPopup(t, day) {
  const box = el("div", "map-popup");
  const route = el("a", "popup-route", "Route and shortest order");
  route.href = `/dispatch/route?tech=${encodeURIComponent(t.account_id)}&day=${encodeURIComponent(day)}`;
  box.append(el("p", "popup-head", t.name), el("p", "", t.source_text), route);
  if (t.jobs.length > 0) {
    box.append(el("p", "popup-label", "Jobs in route order"));
    const list = el("ol", "jobs");
    for (const key of t.jobs) list.append(el("li", "", key));
    box.append(list);
  } else {
    box.append(el("p", "", "No jobs this day"));
  }
  return box;
}

/** The attribution as plain text (Leaflet's own control would read it as HTML). */
const TextAttribution = Control.extend({
  options: { position: "bottomright", text: "" },
  onAdd() {
    const box = DomUtil.create("div", "leaflet-control-attribution map-attribution");
    box.textContent = this.options.text;
    return box;
  },
});

function start() {
  if (!root) return;
  const map = createMap(root, { attributionControl: false, minZoom: 2, maxZoom: 19, zoomSnap: 0.25 });
  const routes = layerGroup().addTo(map);
  const tickets = layerGroup().addTo(map);
  const techs = layerGroup().addTo(map);
  let etag = "";
  let busy = false;
  let first = true;
  let openKey = null;

  function bounds(data) {
    const b = latLngBounds([]);
    for (const t of data.tickets) b.extend([t.lat, t.lon]);
    for (const t of data.technicians) for (const p of t.route) b.extend(p);
    return b;
  }

  function setUp(data) {
    if (data.tiles) {
      tileLayer(data.tiles.url, { maxZoom: 19 }).addTo(map);
      if (data.tiles.attribution) new TextAttribution({ text: data.tiles.attribution }).addTo(map);
    }
    const b = bounds(data);
    if (b.isValid()) map.fitBounds(b, { padding: [30, 30], maxZoom: 15 });
    else map.setView([20, 0], 2);
  }

  function remember(layer, key) {
    layer.on("popupopen", () => {
      openKey = key;
    });
    layer.on("popupclose", () => {
      if (openKey === key) openKey = null;
    });
    if (openKey === key) layer.openPopup();
  }

  function draw(data) {
    const reopen = openKey;
    routes.clearLayers();
    tickets.clearLayers();
    techs.clearLayers();
    openKey = reopen;
    for (const t of data.tickets) {
      const m = circleMarker([t.lat, t.lon], {
        radius: 8,
        weight: 2,
        fillOpacity: 0.9,
        className: `ticket-marker phase-${t.colour}`,
      });
      m.bindPopup(() => ticketPopup(t, data.day));
      tickets.addLayer(m);
      const node = m.getElement();
      if (node) {
        node.setAttribute("data-key", t.key);
        // Reachable and openable from the keyboard, named for screen readers.
        node.setAttribute("tabindex", "0");
        node.setAttribute("role", "button");
        node.setAttribute("aria-label", `${t.key}: ${t.summary} (${t.label})`);
        node.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            m.openPopup();
          }
        });
      }
      remember(m, `ticket:${t.key}`);
    }
    data.technicians.forEach((t, i) => {
      const colour = `tech-c${i % PALETTE_SIZE}`;
      if (t.route.length > 1) {
        routes.addLayer(
          polyline(t.route, {
            className: `tech-route ${colour}`,
            weight: 3,
            opacity: 0.85,
            dashArray: "6 6",
            interactive: false,
          }),
        );
      }
      if (!t.position) return;
      const badge = el("span", `tech-badge ${colour}`, t.initials);
      const m = marker(t.position, {
        icon: divIcon({
          className: "tech-marker",
          html: badge,
          iconSize: [26, 26],
          iconAnchor: [13, 13],
          popupAnchor: [0, -13],
        }),
        title: `${t.name}: ${t.source_text}`,
        keyboard: true,
        zIndexOffset: 1000,
      });
      m.bindPopup(() => techPopup(t, data.day));
      techs.addLayer(m);
      m.getElement()?.setAttribute("data-account", t.account_id);
      remember(m, `tech:${t.account_id}`);
    });
    root.dataset.tickets = String(data.tickets.length);
    root.dataset.technicians = String(data.technicians.filter((t) => t.position).length);
    const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const without = data.unlocated.length > 0 ? `, ${data.unlocated.length} without a location (listed below)` : "";
    say(`Updated ${time}: ${data.tickets.length} tickets on the map${without}.`);
  }

  async function refresh() {
    if (busy || (document.hidden && !first)) return;
    busy = true;
    try {
      const headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      const res = await fetch(root.dataset.source, { headers, credentials: "same-origin", cache: "no-store" });
      if (res.status === 304) return;
      if (!res.ok) {
        say(`The map could not be refreshed (HTTP ${res.status}); it will try again.`);
        return;
      }
      const data = await res.json();
      etag = res.headers.get("ETag") ?? "";
      if (first) {
        setUp(data);
        first = false;
      }
      draw(data);
    } catch (e) {
      console.warn("map refresh failed", e);
      say("The map could not be refreshed; it will try again.");
    } finally {
      busy = false;
    }
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
}

start();
