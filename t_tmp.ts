import process from "node:process";
import { read } from "./lib/agent/local/reader.ts";
import { sentences } from "./lib/agent/local/parse.ts";
import nlp from "compromise";
const MESSAGES = ["Remember that the launch is on May 10","When is the launch?","Is the launch on June 1?","Who leads design?","The standup moved to 10:00","Forget the mascot","What do you remember?","🚀 Remember that the mascot is 🦊","Remember that Ana leads design and tell me when the launch is","Thanks!"];
function cpu(label: string, f: (m: string) => unknown) {
  for (let i = 0; i < 20; i++) for (const m of MESSAGES) f(m);
  const b = process.cpuUsage(); const n = 50;
  for (let i = 0; i < n; i++) for (const m of MESSAGES) f(m);
  const c = process.cpuUsage(b); console.log(label, ((c.user + c.system) / 1000 / n / MESSAGES.length).toFixed(3), "ms");
}
cpu("nlp()", (m) => nlp(m));
cpu("nlp()+root", (m) => { const d = nlp(m); d.compute("root"); });
cpu("sentences", sentences);
cpu("read", read);
