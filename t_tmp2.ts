import * as parse from "./lib/agent/local/parse.ts";
import { read } from "./lib/agent/local/reader.ts";
import nlp from "compromise";
let count = 0;
const orig = nlp.prototype;
const MESSAGES = ["Remember that the launch is on May 10","When is the launch?","Is the launch on June 1?","Who leads design?","The standup moved to 10:00","Forget the mascot","What do you remember?","🚀 Remember that the mascot is 🦊","Remember that Ana leads design and tell me when the launch is","Thanks!"];
import * as chrono from "chrono-node";
import process from "node:process";
function cpu(label: string, f: () => unknown) { for (let i=0;i<100;i++) f(); const b = process.cpuUsage(); for (let i=0;i<500;i++) f(); const c = process.cpuUsage(b); console.log(label, ((c.user+c.system)/1000/500).toFixed(3)); }
for (const m of MESSAGES) cpu(m, () => read(m));
cpu("chrono", () => chrono.parse("on June 1"));
cpu("sentences short", () => parse.sentences("When is the launch?"));
cpu("sentences remember", () => parse.sentences("Remember that the launch is on May 10"));
cpu("nlp remember", () => nlp("Remember that the launch is on May 10"));
cpu("nlp remember + root", () => nlp("Remember that the launch is on May 10").compute("root"));
cpu("tokenize", () => nlp.tokenize("Remember that the launch is on May 10"));
