// TechDesk: keeps a running timer's elapsed time current. The timer itself lives on the
// server (per user and ticket), so a reload or another device shows the same start.

function format(seconds) {
  const minutes = Math.floor(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (seconds < 60) return `${seconds}s`;
  if (h === 0) return `${m}m`;
  if (m === 0) return `${h}h`;
  return `${h}h ${m}m`;
}

function tick() {
  for (const start of document.querySelectorAll("time.td-timer-start")) {
    const started = Date.parse(start.getAttribute("datetime") || "");
    const out = start.parentElement && start.parentElement.querySelector(".td-timer-elapsed");
    if (!Number.isNaN(started) && out) {
      out.textContent = format(Math.max(0, Math.floor((Date.now() - started) / 1000)));
    }
  }
}

if (document.querySelector("time.td-timer-start")) {
  tick();
  window.setInterval(tick, 15000);
}
