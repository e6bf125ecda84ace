// A tiny headless HTTP agent standing in for a user's browser (Node 20, built-in fetch).
//
// It knows nothing of Latchkey's URLs. Starting from a URL on the server's origin it
//   - keeps that one host's cookies (Set-Cookie `name=value`; `Max-Age=0` deletes),
//   - follows redirects while they stay on the server's origin,
//   - submits the first `<form method="post">` of each page it is shown, filling the inputs it
//     was given values for (e.g. `email`, `password`) and pressing the button it was told to
//     prefer (e.g. `decision=approve`), keeping hidden fields and checked radios as they are,
// and stops at the first redirect that leaves the origin (a client's redirect URI), whose URL
// it returns. Anything else (an error status, a page without a form, a loop) is an error
// carrying the trace of its requests.

const MAX_STEPS = 30;
const MAX_FORMS = 6;

const ENTITIES = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** Decodes the character references the server escapes with (and numeric ones generally). */
export function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === "#") {
      const code =
        ref[1] === "x" || ref[1] === "X"
          ? parseInt(ref.slice(2), 16)
          : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Attributes of one start tag's source, e.g. `<input name="a" value='b' checked>`. */
function attributes(tag) {
  const out = {};
  const inner = tag.replace(/^<[a-z0-9]+/i, "").replace(/\/?>$/, "");
  const re = /([^\s"'=<>\/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  let m;
  while ((m = re.exec(inner)) !== null) {
    const value = m[2] ?? m[3] ?? m[4] ?? "";
    out[m[1].toLowerCase()] = decodeEntities(value);
  }
  return out;
}

function tags(html, name) {
  return html.match(new RegExp(`<${name}\\b[^>]*>`, "gi")) ?? [];
}

/**
 * The first `<form method="post">` of a page: its action, the fields a browser would submit
 * (inputs other than buttons; radios and checkboxes only when checked) and its submit buttons.
 */
export function parseForm(html) {
  const re = /<form\b[^>]*>/gi;
  let m;
  while ((m = re.exec(html)) !== null) {
    const formAttrs = attributes(m[0]);
    if ((formAttrs.method ?? "get").toLowerCase() !== "post") continue;
    const start = m.index + m[0].length;
    const end = html.indexOf("</form>", start);
    const body = html.slice(start, end === -1 ? html.length : end);
    const fields = [];
    const buttons = [];
    for (const tag of tags(body, "input")) {
      const a = attributes(tag);
      if (a.name === undefined || "disabled" in a) continue;
      const type = (a.type ?? "text").toLowerCase();
      const value = a.value ?? "";
      if (type === "submit") buttons.push({ name: a.name, value });
      else if (type === "radio" || type === "checkbox") {
        if ("checked" in a) fields.push([a.name, type === "checkbox" && a.value === undefined ? "on" : value]);
      } else if (!["button", "reset", "image", "file"].includes(type)) {
        fields.push([a.name, value]);
      }
    }
    for (const tag of tags(body, "button")) {
      const a = attributes(tag);
      const type = (a.type ?? "submit").toLowerCase();
      if (type !== "submit" || "disabled" in a) continue;
      buttons.push({ name: a.name, value: a.value ?? "" });
    }
    return { action: formAttrs.action ?? "", fields, buttons };
  }
  return null;
}

export class AgentError extends Error {
  constructor(message, trace) {
    super(`${message}\n  trace:\n    ${trace.join("\n    ")}`);
    this.name = "AgentError";
    Object.defineProperty(this, "trace", { value: [...trace], enumerable: false });
  }
}

export class Agent {
  /**
   * @param {object} options
   * @param {Record<string, string>} [options.fill] values for form inputs, by name, used when
   *   the form has an input of that name (e.g. `{ email, password }`).
   * @param {Record<string, string>} [options.press] the button to press, by name and value,
   *   when the form has it (e.g. `{ decision: "approve" }`); otherwise the first submit
   *   button, as a browser's default submission would.
   */
  constructor({ fill = {}, press = {} } = {}) {
    this.fill = fill;
    this.press = press;
    /** @type {Map<string, string>} */
    this.cookies = new Map();
    /** @type {string | undefined} the origin of the first URL this agent was sent to */
    this.origin = undefined;
    /** One line per request, for error messages. */
    this.trace = [];
    /** The forms submitted: `{ action, fields: [names], button: "name=value" }`. */
    this.submitted = [];
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  absorb(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attrs
        .map((a) => a.trim().split("="))
        .find(([k]) => k.toLowerCase() === "max-age");
      if (maxAge && Number(maxAge[1]) <= 0) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method, url, form) {
    const headers = { accept: "text/html" };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const response = await fetch(url, { method, headers, body, redirect: "manual" });
    this.absorb(response);
    const text = await response.text();
    const location = response.headers.get("location");
    this.trace.push(
      `${method} ${url} -> ${response.status}${location ? ` Location: ${location}` : ""}`,
    );
    return { url, status: response.status, location, body: text };
  }

  /**
   * Opens `url` (GET) and goes on — redirects on the origin, forms — until a redirect leaves
   * the origin; returns that redirect's target as a URL.
   */
  async run(url) {
    url = new URL(url);
    const start = this.trace.length;
    this.origin ??= url.origin;
    if (url.origin !== this.origin) {
      throw new AgentError(`refusing to start off the server's origin ${this.origin}: ${url}`, this.trace.slice(start));
    }
    let method = "GET";
    let form;
    let forms = 0;
    for (let step = 0; step < MAX_STEPS; step++) {
      const page = await this.request(method, url.href, form);
      if (page.status >= 300 && page.status < 400 && page.location) {
        const next = new URL(page.location, url);
        if (next.origin !== this.origin) return next;
        // 307/308 repeat the request; 301/302/303 become a GET, as browsers do.
        if (page.status !== 307 && page.status !== 308) {
          method = "GET";
          form = undefined;
        }
        url = next;
        continue;
      }
      if (page.status >= 400) {
        // An error page (a refused sign-in shows its form again with 401): a person would stop.
        throw new AgentError(`stopped at ${page.status} ${page.url}:\n${excerpt(page.body)}`, this.trace.slice(start));
      }
      const parsed = parseForm(page.body);
      if (!parsed) {
        throw new AgentError(
          `stopped at ${page.status} ${page.url}, a page without a POST form:\n${excerpt(page.body)}`,
          this.trace.slice(start),
        );
      }
      if (++forms > MAX_FORMS) {
        throw new AgentError(`too many forms (last: ${page.status} ${page.url}):\n${excerpt(page.body)}`, this.trace.slice(start));
      }
      const fields = parsed.fields.map(([k, v]) => [k, Object.hasOwn(this.fill, k) ? this.fill[k] : v]);
      const button =
        parsed.buttons.find((b) => b.name !== undefined && this.press[b.name] === b.value) ??
        parsed.buttons[0];
      if (button?.name !== undefined) fields.push([button.name, button.value]);
      const action = new URL(parsed.action || page.url, page.url);
      if (action.origin !== this.origin) {
        throw new AgentError(`the form on ${page.url} posts off the server's origin: ${action}`, this.trace.slice(start));
      }
      this.submitted.push({
        action: action.href,
        fields: fields.map(([k]) => k),
        button: button?.name === undefined ? undefined : `${button.name}=${button.value}`,
      });
      method = "POST";
      form = fields;
      url = action;
    }
    throw new AgentError(`more than ${MAX_STEPS} requests without leaving ${this.origin}`, this.trace.slice(start));
  }
}

function excerpt(body) {
  const text = body
    .replace(/<style[\s\S]*?<\/style>/gi, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}
