// Reveal one masked field on request; the server audits every reveal.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.reveal");
  if (!button) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(`/api/v1/residents/${button.dataset.resident}/reveal`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
    body: JSON.stringify({ field: button.dataset.field }),
    credentials: "same-origin",
  });
  const cell = button.parentElement;
  if (!response.ok) {
    button.textContent = "✗";
    return;
  }
  const body = await response.json();
  cell.textContent = body.value ?? "";  // text, never HTML
});
