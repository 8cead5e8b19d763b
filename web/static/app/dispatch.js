// DispatchDesk's board: drag-and-drop assignment, the "Suggest" button, and the live
// refresh that shows other dispatchers' (and Jira's) changes without a reload.
// Everything here is an enhancement: without scripts the "Assign to…" forms post normally.
import Sortable from "/static/vendor/sortable/sortable.esm.js";

const board = document.getElementById("board");
const message = document.getElementById("board-message");
const REFRESH_MS = 4000;
let dragging = false;
let busy = false;

function csrf() {
  return board?.dataset.csrf ?? "";
}

function say(text, ok) {
  if (!message) return;
  message.textContent = text;
  message.className = ok ? "board-message notice" : "board-message form-error";
}

function version() {
  return board?.querySelector(".lanes")?.dataset.version ?? "";
}

async function refresh(force) {
  if (!board || dragging || busy) return;
  busy = true;
  try {
    const v = force ? "" : `&v=${encodeURIComponent(version())}`;
    const res = await fetch(`/dispatch/board/lanes?${board.dataset.query}${v}`, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    if (res.status === 200) {
      const html = await res.text();
      const open = [...board.querySelectorAll("details[open]")].map((d) => d.closest(".card")?.dataset.key);
      board.innerHTML = html;
      for (const key of open) {
        board.querySelector(`.card[data-key="${CSS.escape(key ?? "")}"] details`)?.setAttribute("open", "");
      }
      wire();
    }
  } catch (e) {
    console.warn("board refresh failed", e);
  } finally {
    busy = false;
  }
}

async function assign(key, accountId, expected, override) {
  const day = new URLSearchParams(board?.dataset.query ?? "").get("day") ?? "";
  const body = new URLSearchParams({ key, account_id: accountId, expected, day });
  if (override) body.set("override", "yes");
  const res = await fetch("/dispatch/assign", {
    method: "POST",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/x-www-form-urlencoded",
      "X-CSRF-Token": csrf(),
    },
    credentials: "same-origin",
    body,
  });
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = {};
  }
  return { ok: res.ok, status: res.status, text: data.message ?? data.error?.message ?? `HTTP ${res.status}` };
}

function wire() {
  if (!board) return;
  for (const list of board.querySelectorAll("ul.cards")) {
    if (list.dataset.lane === "-") continue;
    Sortable.create(list, {
      group: "board",
      animation: 120,
      // Mouse-event dragging: the same on every browser and drivable by tests.
      forceFallback: true,
      filter: "a, button",
      preventOnFilter: false,
      onStart: () => {
        dragging = true;
      },
      onEnd: async (evt) => {
        dragging = false;
        const card = evt.item;
        const to = evt.to.dataset.lane ?? "";
        const from = evt.from.dataset.lane ?? "";
        if (to === from) return;
        const res = await assign(card.dataset.key, to, card.dataset.assignee ?? "", false);
        say(res.text, res.ok);
        await refresh(true);
      },
    });
  }
}

if (board) {
  wire();
  setInterval(() => refresh(false), REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh(false);
  });
}
