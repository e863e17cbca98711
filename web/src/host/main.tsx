import { render } from "preact";
import "../styles/app.css";
import { HostApp } from "./app.js";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<HostApp />, root);
}
