// Mock carrier console: poll /console/live and swap the regions that changed; post the
// action forms with fetch so nothing reloads. Plain JavaScript, served by the mock.
"use strict";
(function () {
  const body = document.body;
  const liveUrl = body.dataset.liveUrl;
  const status = document.getElementById("live-status");
  const toast = document.getElementById("toast");
  const INTERVAL_MS = 1000;
  let version = body.dataset.version || "";
  let timer = null;
  let busy = false;

  function setLive(ok) {
    if (!status) return;
    status.classList.toggle("offline", !ok);
    status.textContent = ok ? "● 实时 live" : "○ 离线 offline";
  }

  function notify(text, ok) {
    if (!toast) return;
    toast.textContent = text || "";
    toast.className = ok ? "good" : "bad";
  }

  // Keep what the user is doing across a swap: typed values, open details, focus.
  function swap(region, html) {
    const kept = {};
    region.querySelectorAll("[data-keep]").forEach(function (node) {
      kept[node.dataset.keep] = node.tagName === "DETAILS" ? node.open : node.value;
    });
    const active = document.activeElement;
    const focusKey = active && region.contains(active) ? active.dataset.keep : null;
    region.innerHTML = html;
    region.querySelectorAll("[data-keep]").forEach(function (node) {
      const value = kept[node.dataset.keep];
      if (value === undefined) return;
      if (node.tagName === "DETAILS") node.open = value;
      else node.value = value;
    });
    if (focusKey) {
      const node = region.querySelector('[data-keep="' + CSS.escape(focusKey) + '"]');
      if (node) {
        node.focus();
        if (typeof node.setSelectionRange === "function") {
          node.setSelectionRange(node.value.length, node.value.length);
        }
      }
    }
  }

  function apply(data) {
    version = data.version;
    Object.keys(data.regions).forEach(function (name) {
      const region = document.querySelector('[data-region="' + name + '"]');
      if (!region || region.dataset.hash === data.hashes[name]) return;
      swap(region, data.regions[name]);
      region.dataset.hash = data.hashes[name];
    });
  }

  async function poll() {
    clearTimeout(timer);
    if (busy || !liveUrl) return schedule();
    busy = true;
    try {
      const sep = liveUrl.indexOf("?") < 0 ? "?" : "&";
      const response = await fetch(liveUrl + sep + "v=" + encodeURIComponent(version), {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (response.status === 200) apply(await response.json());
      else if (response.status === 401) window.location.reload();
      setLive(response.ok);
    } catch (err) {
      setLive(false);
    } finally {
      busy = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, document.hidden ? INTERVAL_MS * 5 : INTERVAL_MS);
  }

  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (!form.matches("form[data-action]")) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      // getAttribute: a control named "action" (the fault form has one) shadows form.action.
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "X-Console": "fetch", Accept: "application/json" },
        credentials: "same-origin",
      });
      let data;
      try {
        data = await response.json();
      } catch (err) {
        data = { ok: false, error: "HTTP " + response.status };
      }
      notify(data.ok ? data.notice : data.error, data.ok);
      if (data.ok) {
        form.querySelectorAll("[data-clear]").forEach(function (node) { node.value = ""; });
        version = "";
        poll();
      }
    } catch (err) {
      notify("请求失败 request failed", false);
    } finally {
      if (button) button.disabled = false;
    }
  });

  const select = document.getElementById("account-select");
  if (select) select.addEventListener("change", function () { select.form.submit(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  schedule();
})();
