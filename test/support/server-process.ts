import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A quizwire server in its own process (for crash tests: SIGKILL is only honest across processes). */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly output: string[],
  ) {}

  /** Starts `src/main.ts` under tsx and resolves once it is listening. */
  static async start(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: ROOT,
      // Load shedding answers the machine's load, not the test's: off unless a test turns it on.
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        EVENT_LOOP_LAG_LIMIT_MS: "0",
        // A warm-up game adds seconds under tsx; test/integration/warm-up.test.ts plays one.
        WARMUP_PLAYERS: "0",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`server did not start within ${timeoutMs} ms:\n${output.join("")}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        output.push(text);
        const m = /quizwire listening on http:\/\/localhost:(\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (c: Buffer) => output.push(c.toString()));
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before listening:\n${output.join("")}`));
      });
    });
    return new ServerProcess(child, port, output);
  }

  /** Kills the process without any chance to clean up, and waits until it is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill(signal);
    });
  }
}
