import { render } from "preact";
import { useState } from "preact/hooks";
import { hasToken, loadGrants, setToken } from "./api.js";
import { ConfigPage } from "./config.js";
import { useConnection } from "./hooks.js";
import { html } from "./html.js";
import { onLinkClick, useLocation } from "./router.js";
import { HealthPage, Overview, ServicePage } from "./services.js";

/**
 * Routes (all deep-linkable):
 *   /services/:namespace            services of a namespace (/ shows "default")
 *   /services/:namespace/:service   one service's instances
 *   /config/:namespace?service=&profile=   resolved configuration
 *   /health/:namespace              transitions and control-plane status
 */
function route(path, query) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const [section = "services", namespace = "default", service] = parts;
  if (section === "services" && service)
    return {
      nav: "services",
      page: html`<${ServicePage} key=${`${namespace}/${service}`} namespace=${namespace} service=${service} />`,
    };
  if (section === "services") return { nav: "services", page: html`<${Overview} key=${namespace} namespace=${namespace} />` };
  if (section === "config") {
    const service = query.get("service") ?? "";
    const profile = query.get("profile") ?? "";
    return {
      nav: "config",
      page: html`<${ConfigPage}
        key=${`${namespace}/${service}/${profile}`}
        namespace=${namespace}
        service=${service}
        profile=${profile}
      />`,
    };
  }
  if (section === "health") return { nav: "health", page: html`<${HealthPage} key=${namespace} namespace=${namespace} />` };
  return {
    nav: "",
    page: html`<section>
      <h1>Not found</h1>
      <p>No page at ${path}. <a href="/">Go to the services</a>.</p>
    </section>`,
  };
}

function App() {
  const { path, query } = useLocation();
  const { authNeeded, disconnected, identity } = useConnection();
  const { nav, page } = route(path, query);
  const namespace = decodeURIComponent(path.split("/")[2] || "default");
  const link = (name, href, label) => html`<a href=${href} aria-current=${nav === name ? "page" : undefined}>${label}</a>`;
  return html`<div onClick=${onLinkClick}>
    <a class="skip" href="#main">Skip to content</a>
    <header>
      <span class="brand">Switchboard</span>
      <nav aria-label="Sections">
        ${link("services", `/services/${namespace}`, "Services")} ${link("config", `/config/${namespace}`, "Configuration")}
        ${link("health", `/health/${namespace}`, "Health")}
      </nav>
      <span class=${`conn ${disconnected ? "down" : "up"}`} role="status" data-testid="connection"
        >${disconnected ? "Disconnected — reconnecting…" : "Live"}</span
      >
      ${
        hasToken() &&
        html`<span class="who" data-testid="identity"
          >${identity ? `Token ${identity}` : "Token"} <button class="link" onClick=${forgetToken}>Forget token</button></span
        >`
      }
    </header>
    ${authNeeded && html`<${TokenForm} />`}
    <main id="main" tabindex="-1">${page}</main>
  </div>`;
}

function forgetToken() {
  setToken("");
  location.reload();
}

/** Asked for when the server answers unauthenticated; the token is kept for this tab (sessionStorage). */
function TokenForm() {
  const [token, set] = useState("");
  const submit = (event) => {
    event.preventDefault();
    setToken(token.trim());
    location.reload();
  };
  return html`<form class="panel auth" onSubmit=${submit} aria-labelledby="auth-title">
    <h2 id="auth-title">This server needs a token</h2>
    <label
      >Bearer token <input type="password" autocomplete="off" value=${token} onInput=${(e) => set(e.target.value)} required
    /></label>
    <button type="submit">Use token</button>
  </form>`;
}

void loadGrants();
render(html`<${App} />`, document.getElementById("app"));
