// A client of the SMS interface (attachment 6): Node's built-in fetch, crypto and http
// (Node 18 or later), nothing from npm.
//
//   SMS_BASE_URL=http://127.0.0.1:8080 SMS_USERID=J10003 SMS_PASSWORD=111111 \
//       node sms_client.mjs demo          # send, match every report (§3.3), balance
//   node sms_client.mjs receiver 9090     # answer pushed reports and MOs (§2.7, §2.8)

import { createHash } from "node:crypto";
import { createServer } from "node:http";

const SEGMENT_STRIDE = 1n << 34n; // §3.3 msgid + (pknum - 1) * 2^34

// §3.1 pwd = md5(userid + "00000000" + password + timestamp): a fresh MMDDHHMMSS
// China-time timestamp for every request (never one made when the client was built).
function credentials(userid, password) {
  const china = new Date(Date.now() + 8 * 3600 * 1000); // read with the UTC getters
  const two = (n) => String(n).padStart(2, "0");
  const timestamp = [
    china.getUTCMonth() + 1, china.getUTCDate(), china.getUTCHours(),
    china.getUTCMinutes(), china.getUTCSeconds(),
  ].map(two).join("");
  const pwd = createHash("md5").update(`${userid}00000000${password}${timestamp}`).digest("hex");
  return { userid, pwd, timestamp };
}

// §2.1.5 content = urlencode(GBK text). Node decodes GBK (TextDecoder) but cannot
// encode it, so the table is built once from the decoder. (In a project: iconv-lite.)
let gbkTable;
function gbk(text) {
  if (!gbkTable) {
    gbkTable = new Map();
    const decoder = new TextDecoder("gbk");
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        const char = decoder.decode(new Uint8Array([lead, trail]));
        if (char.length === 1 && char !== "\ufffd" && !gbkTable.has(char)) {
          gbkTable.set(char, [lead, trail]);
        }
      }
    }
  }
  const bytes = [];
  for (const char of text) {
    if (char.codePointAt(0) < 0x80) bytes.push(char.codePointAt(0));
    else if (gbkTable.has(char)) bytes.push(...gbkTable.get(char));
    else throw new Error(`GBK has no ${char}`);
  }
  return bytes.map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
}

// JSON.parse turns a msgid beyond 2^53 into a wrong Number: the ids are quoted first
// and read as BigInt, every digit kept.
function parseAnswer(text) {
  const quoted = text.replace(/"msgid"\s*:\s*(-?\d+)/g, '"msgid":"$1"');
  return JSON.parse(quoted, (key, value) => (key === "msgid" ? BigInt(value) : value));
}

export class SmsClient {
  constructor(baseUrl, userid, password) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.userid = userid.toUpperCase(); // §2.1.5 统一大写
    this.password = password;
  }

  async call(endpoint, extra, asForm = false) {
    const fields = { ...credentials(this.userid, this.password), ...extra };
    let body, type;
    if (asForm) { // content is urlencoded GBK already: it goes in as is (§2.1.7)
      body = Object.entries(fields)
        .map(([k, v]) => `${k}=${k === "content" ? v : encodeURIComponent(String(v))}`)
        .join("&");
      type = "application/x-www-form-urlencoded";
    } else {
      body = JSON.stringify(fields);
      type = "application/json";
    }
    const response = await fetch(`${this.baseUrl}/sms/v2/std/${endpoint}`, {
      method: "POST", headers: { "Content-Type": type }, body,
    });
    const answerType = response.headers.get("content-type") ?? "";
    if (!answerType.startsWith("application/json")) {
      throw new Error(`${endpoint}: answer is ${answerType}, not JSON`);
    }
    const answer = parseAnswer(await response.text());
    if (typeof answer.result !== "number") throw new Error(`${endpoint}: result is not a number`);
    if (answer.result !== 0) throw new Error(`${endpoint}: result ${answer.result}`);
    return answer;
  }

  async singleSend(mobile, text) {
    return (await this.call("single_send", { mobile, content: gbk(text) }, true)).msgid;
  }

  async batchSend(mobiles, text) {
    const fields = { mobile: mobiles.join(","), content: gbk(text) };
    return (await this.call("batch_send", fields, true)).msgid;
  }

  async multiSend(messages) {
    const multimt = messages.map(([mobile, text]) => ({ mobile, content: gbk(text) }));
    return (await this.call("multi_send", { multimt })).msgid;
  }

  async getRpt(retsize = 500) {
    const { rpts } = await this.call("get_rpt", { retsize });
    return Array.isArray(rpts) ? rpts : [];
  }

  async getBalance() {
    return this.call("get_balance", {});
  }
}

// §3.3: mobile p of a send has msgid + p - 1; its segment k adds (k - 1) * 2^34,
// in 64-bit two's complement as Java's long (BigInt.asIntN).
export class ReportMatcher {
  expected = new Map(); // per-mobile id (as a string) → mobile
  pktotal = new Map();
  seen = new Map();
  unmatched = 0;

  sent(msgid, mobiles) {
    mobiles.forEach((mobile, i) => this.expected.set(BigInt.asIntN(64, msgid + BigInt(i)).toString(), mobile));
  }

  report(rpt) {
    const pknum = Math.max(Number(rpt.pknum ?? 1), 1);
    const owner = BigInt.asIntN(64, rpt.msgid - BigInt(pknum - 1) * SEGMENT_STRIDE).toString();
    if (this.expected.get(owner) !== rpt.mobile) {
      this.unmatched++;
      return;
    }
    this.pktotal.set(owner, Number(rpt.pktotal ?? 1));
    if (!this.seen.has(owner)) this.seen.set(owner, new Set());
    this.seen.get(owner).add(pknum);
  }

  complete() {
    return [...this.expected.keys()].every((o) => (this.seen.get(o)?.size ?? 0) === (this.pktotal.get(o) ?? -1));
  }

  segments() {
    return [...this.seen.values()].reduce((n, s) => n + s.size, 0);
  }
}

async function demo(client, pollWait, deadline) {
  const matcher = new ReportMatcher();
  const long = "您的ETC账户本月通行费已扣款，明细请登录通渝App查看。".repeat(3); // 2 segments
  matcher.sent(await client.singleSend("13800138000", long), ["13800138000"]);
  const batch = ["13800138001", "13900139002", "13700137003"];
  matcher.sent(await client.batchSend(batch, "验证码：6666，打死都不要告诉别人哦！"), batch);
  const multi = [["13800138004", "张先生，您的充值已到账"], ["13900139005", "李女士，您的充值已到账"]];
  matcher.sent(await client.multiSend(multi), multi.map(([mobile]) => mobile));
  const stop = Date.now() + deadline * 1000;
  while (!matcher.complete() && Date.now() < stop) {
    const rpts = await client.getRpt();
    rpts.forEach((rpt) => matcher.report(rpt));
    if (rpts.length === 0) await new Promise((r) => setTimeout(r, pollWait * 1000)); // §2.5.1 延时5秒
  }
  const balance = await client.getBalance();
  return {
    complete: matcher.complete(), mobiles: matcher.expected.size, segments: matcher.segments(),
    unmatched: matcher.unmatched, balance: balance.balance, chargetype: balance.chargetype,
  };
}

// §2.7 / §2.8: answer a pushed MO_REQ / RPT_REQ at once, with its seqid.
function receiver(port) {
  const answers = { RPT_REQ: "RPT_RESP", MO_REQ: "MO_RESP" };
  createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const fields = {};
      for (const pair of Buffer.concat(chunks).toString("latin1").split("&")) {
        const [name, value = ""] = pair.split(/=(.*)/s);
        // the document's examples send the list as a raw JSON array, others urlencode it
        fields[name] = value.startsWith("[") ? value : decodeURIComponent(value.replace(/\+/g, " "));
      }
      const seqid = Number(fields.seqid);
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ cmd: answers[fields.cmd] ?? "", seqid, result: 0 }));
      const items = parseAnswer(fields.rpts ?? fields.mos ?? "[]"); // msgid as BigInt
      console.log(`${fields.cmd} seqid=${seqid}: ${items.length} item(s)`);
    });
  }).listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
}

if (process.argv[2] === "receiver") {
  receiver(Number(process.argv[3]));
} else {
  const env = process.env;
  const client = new SmsClient(
    env.SMS_BASE_URL ?? "http://127.0.0.1:8080", env.SMS_USERID ?? "J10003", env.SMS_PASSWORD ?? "111111",
  );
  const summary = await demo(client, Number(env.SMS_POLL_WAIT ?? 5), Number(env.SMS_DEADLINE ?? 60));
  console.log(JSON.stringify(summary));
  process.exitCode = summary.complete && summary.unmatched === 0 ? 0 : 1;
}
