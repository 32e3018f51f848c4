import nlp from "compromise";
import process from "node:process";
function cpu(label: string, f: () => unknown) { for (let i=0;i<100;i++) f(); const b = process.cpuUsage(); for (let i=0;i<500;i++) f(); const c = process.cpuUsage(b); console.log(label, ((c.user+c.system)/1000/500).toFixed(3)); }
const s = "Remember that the launch is on May 10";
const light = (t: string) => { const d = nlp.tokenize(t); d.compute(["alias","normal","machine","lexicon","preTagger","root"]); return d; };
cpu("full", () => nlp(s));
cpu("light", () => light(s));
for (const t of ["Does Ana lead design?", "The launch moved to May 10", "The iPhone app ships in June", "Remember that Ana leads design and tell me when the launch is", "Don't forget: Jo's desk moved", "Is the launch on June 1?"]) {
  const a = nlp(t).docs[0].map((x:any)=>x.text+"/"+[...x.tags].slice(0,2).join(","));
  const b = light(t).docs[0].map((x:any)=>x.text+"/"+[...x.tags].slice(0,2).join(",")+(x.root?"~"+x.root:""));
  console.log(a.join(" ")); console.log(b.join(" "));
}
