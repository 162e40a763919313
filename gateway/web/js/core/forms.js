// Form errors: each problem next to its field (aria-invalid, aria-describedby) and a summary with
// links to the fields at the top of the form. Works with any form whose controls carry `name`s
// equal to the API's field paths, or wrappers with `data-field="<path>"` (e.g. a fieldset).
import { detailText, errorText, t } from "./i18n.js";

let counter = 0;
const uid = (prefix) => `${prefix}-${++counter}`;

function findField(form, path) {
  const parts = String(path || "").split(".");
  while (parts.length) {
    const name = parts.join(".");
    const found = form.querySelector(`[data-field="${CSS.escape(name)}"]`)
      || form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (found) return found;
    parts.pop();
  }
  return null;
}

function fieldLabel(field) {
  if (!field) return "";
  if (field.dataset.label) return field.dataset.label;
  if (field.tagName === "FIELDSET") return field.querySelector("legend")?.textContent.trim() || "";
  if (field.id) {
    const explicit = field.form?.querySelector(`label[for="${CSS.escape(field.id)}"]`);
    if (explicit) return explicit.textContent.trim();
  }
  const wrapping = field.closest("label");
  if (wrapping) return wrapping.textContent.trim();
  return field.getAttribute("aria-label") || field.name || "";
}

function describe(field, id) {
  const ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  if (!ids.includes(id)) ids.push(id);
  field.setAttribute("aria-describedby", ids.join(" "));
}

/** Removes every error message, mark and the summary that showErrors added. */
export function clearErrors(form) {
  if (!form) return;
  form.querySelectorAll("[data-error-summary]").forEach((node) => node.remove());
  form.querySelectorAll("[data-field-error]").forEach((node) => {
    const field = form.querySelector(`[aria-describedby~="${CSS.escape(node.id)}"]`);
    if (field) {
      const rest = field.getAttribute("aria-describedby").split(/\s+/).filter((id) => id && id !== node.id);
      if (rest.length) field.setAttribute("aria-describedby", rest.join(" "));
      else field.removeAttribute("aria-describedby");
    }
    node.remove();
  });
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

/**
 * Shows an ApiError (or any Error) on a form. Details whose field is not in the form, and errors
 * without details, appear in the summary only. Focus moves to the summary.
 */
export function showErrors(form, error, { focus = true } = {}) {
  clearErrors(form);
  // Only validation errors name fields; other errors' details are for developers.
  const fieldErrors = error && (error.code === "validation_error" || error.status === 422) && error.code !== "not_a_match";
  const details = (fieldErrors && Array.isArray(error.details)) ? error.details : [];
  const entries = [];
  for (const detail of details) {
    const field = findField(form, detail.field);
    const message = detailText(detail);
    if (!field) { entries.push({ text: message, label: detail.field }); continue; }
    if (!field.id) field.id = uid("field");
    const note = document.createElement("p");
    note.className = "field-error";
    note.id = uid("error");
    note.dataset.fieldError = "";
    note.textContent = message;
    const wrap = field.closest("[data-field-wrap], .field") || field.parentElement;
    if (field.tagName === "FIELDSET") field.append(note);
    else if (wrap && wrap !== form) wrap.append(note);
    else field.after(note);
    field.setAttribute("aria-invalid", "true");
    describe(field, note.id);
    entries.push({ text: message, label: fieldLabel(field), target: field });
  }

  const summary = document.createElement("div");
  summary.className = "error-summary";
  summary.dataset.errorSummary = "";
  summary.setAttribute("role", "alert");
  summary.tabIndex = -1;
  const heading = document.createElement("p");
  heading.className = "error-summary-title";
  heading.textContent = entries.length
    ? (entries.length === 1 ? t("errors_summary_one") : t("errors_summary", { count: entries.length }))
    : errorText(error);
  summary.append(heading);
  if (entries.length) {
    if (!details.length || error.code !== "validation_error") {
      const general = document.createElement("p");
      general.textContent = errorText(error);
      summary.append(general);
    }
    const list = document.createElement("ul");
    for (const entry of entries) {
      const item = document.createElement("li");
      const text = entry.label ? `${entry.label}: ${entry.text}` : entry.text;
      if (entry.target) {
        const link = document.createElement("a");
        link.href = `#${entry.target.id}`;
        link.textContent = text;
        // Not a route: focus the field instead of changing the location.
        link.addEventListener("click", (event) => {
          event.preventDefault();
          const target = entry.target.tagName === "FIELDSET"
            ? (entry.target.querySelector("input, select, textarea, button") || entry.target) : entry.target;
          target.focus();
          target.scrollIntoView({ block: "center" });
        });
        item.append(link);
      } else {
        item.textContent = text;
      }
      list.append(item);
    }
    summary.append(list);
  }
  form.prepend(summary);
  if (focus) summary.focus();
  return summary;
}
