// A client of the SMS interface (attachment 6): System.Net.Http, HttpListener and
// JavaScriptSerializer, as Mono ships them (Debian: mono-mcs, libmono-system-net-http4.0-cil,
// libmono-system-web-extensions4.0-cil, libmono-i18n-cjk4.0-cil for GBK).
// On .NET 6+: System.Text.Json instead of JavaScriptSerializer, and
// Encoding.RegisterProvider(CodePagesEncodingProvider.Instance) before GetEncoding("GBK").
//
//   mcs -r:System.Net.Http -r:System.Web.Extensions -r:System.Web -out:SmsClient.exe SmsClient.cs
//   SMS_BASE_URL=http://127.0.0.1:8080 SMS_USERID=J10003 SMS_PASSWORD=111111 mono SmsClient.exe demo
//   mono SmsClient.exe receiver 9090

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Web;
using System.Web.Script.Serialization;

public class SmsClient
{
    const long SegmentStride = 1L << 34; // §3.3 msgid + (pknum - 1) * 2^34
    static readonly Encoding Gbk = Encoding.GetEncoding("GBK");
    static readonly JavaScriptSerializer Json = new JavaScriptSerializer();

    readonly string baseUrl, userid, password;
    readonly HttpClient http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

    public SmsClient(string baseUrl, string userid, string password)
    {
        this.baseUrl = baseUrl.TrimEnd('/');
        this.userid = userid.ToUpperInvariant(); // §2.1.5 统一大写
        this.password = password;
    }

    // §3.1 pwd = md5(userid + "00000000" + password + timestamp), with a fresh
    // MMDDHHMMSS China-time timestamp for every request.
    Dictionary<string, object> Credentials()
    {
        string timestamp = DateTime.UtcNow.AddHours(8).ToString("MMddHHmmss", CultureInfo.InvariantCulture);
        using (var md5 = MD5.Create())
        {
            byte[] hash = md5.ComputeHash(Encoding.UTF8.GetBytes(userid + "00000000" + password + timestamp));
            string pwd = string.Concat(hash.Select(b => b.ToString("x2"))); // lower case
            return new Dictionary<string, object> { { "userid", userid }, { "pwd", pwd }, { "timestamp", timestamp } };
        }
    }

    // §2.1.5 content = urlencode(GBK text).
    public static string GbkUrlencode(string text)
    {
        return HttpUtility.UrlEncode(text, Gbk);
    }

    Dictionary<string, object> Call(string endpoint, Dictionary<string, object> extra, bool asForm = false)
    {
        var fields = Credentials();
        foreach (var pair in extra) fields[pair.Key] = pair.Value;
        HttpContent body;
        if (asForm) // content is urlencoded GBK already: it goes in as is (§2.1.7)
        {
            string form = string.Join("&", fields.Select(f => f.Key + "=" +
                (f.Key == "content" ? f.Value : Uri.EscapeDataString(Convert.ToString(f.Value, CultureInfo.InvariantCulture)))));
            body = new StringContent(form, Encoding.ASCII, "application/x-www-form-urlencoded");
        }
        else
        {
            body = new StringContent(Json.Serialize(fields), Encoding.UTF8, "application/json");
        }
        HttpResponseMessage response = http.PostAsync(baseUrl + "/sms/v2/std/" + endpoint, body).Result;
        string answerType = response.Content.Headers.ContentType?.MediaType ?? "";
        if (answerType != "application/json")
            throw new IOException(endpoint + ": answer is " + answerType + ", not JSON");
        // Integers come back as int or long: a 64-bit msgid keeps every digit.
        var answer = Json.Deserialize<Dictionary<string, object>>(response.Content.ReadAsStringAsync().Result);
        if (!(answer.TryGetValue("result", out object result) && result is int))
            throw new IOException(endpoint + ": result is not a number");
        if ((int)result != 0) throw new IOException(endpoint + ": result " + result);
        return answer;
    }

    public long SingleSend(string mobile, string text)
    {
        var fields = new Dictionary<string, object> { { "mobile", mobile }, { "content", GbkUrlencode(text) } };
        return Convert.ToInt64(Call("single_send", fields, true)["msgid"]);
    }

    public long BatchSend(IList<string> mobiles, string text)
    {
        var fields = new Dictionary<string, object> { { "mobile", string.Join(",", mobiles) }, { "content", GbkUrlencode(text) } };
        return Convert.ToInt64(Call("batch_send", fields, true)["msgid"]);
    }

    public long MultiSend(IList<string[]> messages)
    {
        var items = messages.Select(m => new Dictionary<string, string> { { "mobile", m[0] }, { "content", GbkUrlencode(m[1]) } }).ToList();
        return Convert.ToInt64(Call("multi_send", new Dictionary<string, object> { { "multimt", items } })["msgid"]);
    }

    public List<Dictionary<string, object>> GetRpt(int retsize = 500)
    {
        object rpts = Call("get_rpt", new Dictionary<string, object> { { "retsize", retsize } })["rpts"];
        var list = new List<Dictionary<string, object>>();
        if (rpts is IEnumerable items && !(rpts is string))
            foreach (object item in items) list.Add((Dictionary<string, object>)item);
        return list;
    }

    public Dictionary<string, object> GetBalance()
    {
        return Call("get_balance", new Dictionary<string, object>());
    }

    // §3.3: mobile p of a send has msgid + p - 1; its segment k adds (k - 1) * 2^34
    // (unchecked long arithmetic wraps, as the document says ids may).
    public class ReportMatcher
    {
        public readonly Dictionary<long, string> Expected = new Dictionary<long, string>();
        readonly Dictionary<long, int> pktotal = new Dictionary<long, int>();
        readonly Dictionary<long, HashSet<int>> seen = new Dictionary<long, HashSet<int>>();
        public int Unmatched;

        public void Sent(long msgid, IList<string> mobiles)
        {
            for (int p = 1; p <= mobiles.Count; p++) Expected[unchecked(msgid + p - 1)] = mobiles[p - 1];
        }

        public void Report(Dictionary<string, object> rpt)
        {
            int pknum = Math.Max(rpt.ContainsKey("pknum") ? Convert.ToInt32(rpt["pknum"]) : 1, 1);
            long owner = unchecked(Convert.ToInt64(rpt["msgid"]) - (pknum - 1) * SegmentStride);
            if (!Expected.TryGetValue(owner, out string mobile) || mobile != (string)rpt["mobile"])
            {
                Unmatched++;
                return;
            }
            pktotal[owner] = rpt.ContainsKey("pktotal") ? Convert.ToInt32(rpt["pktotal"]) : 1;
            if (!seen.ContainsKey(owner)) seen[owner] = new HashSet<int>();
            seen[owner].Add(pknum);
        }

        public bool Complete()
        {
            return Expected.Keys.All(o => seen.ContainsKey(o) && pktotal.ContainsKey(o) && seen[o].Count == pktotal[o]);
        }

        public int Segments()
        {
            return seen.Values.Sum(s => s.Count);
        }
    }

    static Dictionary<string, object> Demo(SmsClient client, double pollWait, double deadline)
    {
        var matcher = new ReportMatcher();
        string longText = string.Concat(Enumerable.Repeat("您的ETC账户本月通行费已扣款，明细请登录通渝App查看。", 3)); // 2 segments
        matcher.Sent(client.SingleSend("13800138000", longText), new[] { "13800138000" });
        var batch = new[] { "13800138001", "13900139002", "13700137003" };
        matcher.Sent(client.BatchSend(batch, "验证码：6666，打死都不要告诉别人哦！"), batch);
        var multi = new List<string[]> { new[] { "13800138004", "张先生，您的充值已到账" }, new[] { "13900139005", "李女士，您的充值已到账" } };
        matcher.Sent(client.MultiSend(multi), multi.Select(m => m[0]).ToList());
        DateTime stop = DateTime.UtcNow.AddSeconds(deadline);
        while (!matcher.Complete() && DateTime.UtcNow < stop)
        {
            var rpts = client.GetRpt();
            foreach (var rpt in rpts) matcher.Report(rpt);
            if (rpts.Count == 0) Thread.Sleep(TimeSpan.FromSeconds(pollWait)); // §2.5.1 延时5秒 when empty
        }
        var balance = client.GetBalance();
        return new Dictionary<string, object>
        {
            { "complete", matcher.Complete() }, { "mobiles", matcher.Expected.Count },
            { "segments", matcher.Segments() }, { "unmatched", matcher.Unmatched },
            { "balance", Convert.ToInt64(balance["balance"]) }, { "chargetype", Convert.ToInt32(balance["chargetype"]) },
        };
    }

    // §2.7 / §2.8: answer a pushed MO_REQ / RPT_REQ at once, with its seqid.
    static void Receiver(int port)
    {
        var listener = new HttpListener();
        listener.Prefixes.Add("http://127.0.0.1:" + port + "/");
        listener.Start();
        Console.WriteLine("listening on " + port);
        var answers = new Dictionary<string, string> { { "RPT_REQ", "RPT_RESP" }, { "MO_REQ", "MO_RESP" } };
        while (true)
        {
            HttpListenerContext context = listener.GetContext();
            string raw;
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.GetEncoding("ISO-8859-1")))
                raw = reader.ReadToEnd();
            var fields = new Dictionary<string, string>();
            foreach (string pair in raw.Split('&'))
            {
                int eq = pair.IndexOf('=');
                if (eq < 0) continue;
                string value = pair.Substring(eq + 1);
                // the document's examples send the list as a raw JSON array, others urlencode it
                fields[pair.Substring(0, eq)] = value.StartsWith("[") ? value : HttpUtility.UrlDecode(value, Encoding.UTF8);
            }
            fields.TryGetValue("cmd", out string cmd);
            long seqid = long.Parse(fields.TryGetValue("seqid", out string s) ? s : "0", CultureInfo.InvariantCulture);
            string answerCmd = cmd != null && answers.ContainsKey(cmd) ? answers[cmd] : "";
            byte[] body = Encoding.UTF8.GetBytes(Json.Serialize(new Dictionary<string, object> { { "cmd", answerCmd }, { "seqid", seqid }, { "result", 0 } }));
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = body.Length;
            context.Response.OutputStream.Write(body, 0, body.Length);
            context.Response.Close();
            string list = fields.ContainsKey("rpts") ? fields["rpts"] : fields.ContainsKey("mos") ? fields["mos"] : "[]";
            Console.WriteLine(cmd + " seqid=" + seqid + ": " + Json.Deserialize<object[]>(list).Length + " item(s)");
        }
    }

    static string Env(string name, string fallback)
    {
        return Environment.GetEnvironmentVariable(name) ?? fallback;
    }

    public static int Main(string[] args)
    {
        if (args.Length > 1 && args[0] == "receiver")
        {
            Receiver(int.Parse(args[1]));
            return 0;
        }
        var client = new SmsClient(Env("SMS_BASE_URL", "http://127.0.0.1:8080"), Env("SMS_USERID", "J10003"), Env("SMS_PASSWORD", "111111"));
        var summary = Demo(client,
            double.Parse(Env("SMS_POLL_WAIT", "5"), CultureInfo.InvariantCulture),
            double.Parse(Env("SMS_DEADLINE", "60"), CultureInfo.InvariantCulture));
        Console.WriteLine(Json.Serialize(summary));
        return (bool)summary["complete"] && (int)summary["unmatched"] == 0 ? 0 : 1;
    }
}
