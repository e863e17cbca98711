import { render } from "preact";
import "../styles/app.css";
import { PlayerApp } from "./player-app.js";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<PlayerApp />, root);
}
