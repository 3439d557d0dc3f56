// Live update: ask every few seconds whether the order moved on (its version); if it did,
// redraw the chat and the actions. Forms being filled in are not redrawn under the user.
(() => {
  const live = document.getElementById("live");
  const parts = ["status", "actions", "message"].map((id) => document.getElementById(id));
  let version = live.dataset.version;
  const edited = (part) => [...part.querySelectorAll("textarea, input:not([type=hidden]), select")]
    .some((field) => field.type === "file" ? field.files.length > 0
      : field.type === "checkbox" ? field.checked !== field.defaultChecked
      : field.value !== field.defaultValue);
  const scrollChat = () => { const chat = document.querySelector("ol.chat"); if (chat) chat.lastElementChild?.scrollIntoView({block: "nearest"}); };
  async function poll() {
    try {
      const response = await fetch(`${live.dataset.url}?version=${version}`, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const seen = await response.json();
        if (String(seen.version) !== version && seen.status !== undefined) {
          version = String(seen.version);
          live.dataset.version = version;
          for (const part of parts) {
            if (part.id === "status" || !edited(part)) part.innerHTML = seen[part.id];
            else if (part.id === "actions") document.getElementById("changed").style.display = "block";
          }
          scrollChat();
        }
      }
    } catch (error) { /* offline for a moment: try again */ }
    setTimeout(poll, Number(live.dataset.pollMs));
  }
  setTimeout(poll, Number(live.dataset.pollMs));
})();
