// A client of the SMS interface (attachment 6): java.net.http + Gson (Debian's
// libgoogle-gson-java; Maven: com.google.code.gson:gson).
//
//   javac -cp /usr/share/java/gson.jar -d build SmsClient.java
//   SMS_BASE_URL=http://127.0.0.1:8080 SMS_USERID=J10003 SMS_PASSWORD=111111 \
//       java -cp build:/usr/share/java/gson.jar SmsClient demo
//   java -cp build:/usr/share/java/gson.jar SmsClient receiver 9090

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

public class SmsClient {
    static final ZoneId CHINA = ZoneId.of("Asia/Shanghai"); // §3.1 China time
    static final DateTimeFormatter MMDDHHMMSS = DateTimeFormatter.ofPattern("MMddHHmmss");
    static final long SEGMENT_STRIDE = 1L << 34; // §3.3 msgid + (pknum - 1) * 2^34
    static final Charset GBK = Charset.forName("GBK");

    final String baseUrl;
    final String userid;
    final String password;
    final HttpClient http = HttpClient.newHttpClient();

    SmsClient(String baseUrl, String userid, String password) {
        this.baseUrl = baseUrl.replaceAll("/+$", "");
        this.userid = userid.toUpperCase(); // §2.1.5 统一大写
        this.password = password;
    }

    /** §3.1 pwd = md5(userid + "00000000" + password + timestamp), a fresh timestamp per request. */
    Map<String, Object> credentials() {
        String timestamp = ZonedDateTime.now(CHINA).format(MMDDHHMMSS);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("userid", userid);
        fields.put("pwd", md5(userid + "00000000" + password + timestamp));
        fields.put("timestamp", timestamp);
        return fields;
    }

    static String md5(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (byte b : hash) hex.append(String.format("%02x", b)); // lower case (定长小写32位)
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** §2.1.5 content = urlencode(GBK text). */
    static String gbk(String text) {
        return URLEncoder.encode(text, GBK);
    }

    JsonObject call(String endpoint, Map<String, Object> extra, boolean asForm)
            throws IOException, InterruptedException {
        Map<String, Object> fields = credentials();
        fields.putAll(extra);
        String body;
        String contentType;
        if (asForm) { // content is urlencoded GBK already: it goes in as is (§2.1.7)
            body = fields.entrySet().stream()
                    .map(e -> e.getKey() + "=" + (e.getKey().equals("content")
                            ? e.getValue()
                            : URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8)))
                    .collect(Collectors.joining("&"));
            contentType = "application/x-www-form-urlencoded";
        } else {
            body = new Gson().toJson(fields);
            contentType = "application/json; charset=utf-8";
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/sms/v2/std/" + endpoint))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        String answerType = response.headers().firstValue("Content-Type").orElse("");
        if (!answerType.startsWith("application/json")) {
            throw new IOException(endpoint + ": answer is " + answerType + ", not JSON");
        }
        // JsonParser keeps numbers as written: getAsLong() reads a 64-bit msgid exactly.
        JsonObject answer = JsonParser.parseString(response.body()).getAsJsonObject();
        JsonElement result = answer.get("result");
        if (result == null || !result.isJsonPrimitive() || !result.getAsJsonPrimitive().isNumber()) {
            throw new IOException(endpoint + ": result " + result + " is not a number");
        }
        if (result.getAsInt() != 0) throw new IOException(endpoint + ": result " + result);
        return answer;
    }

    long singleSend(String mobile, String text) throws IOException, InterruptedException {
        return call("single_send", Map.of("mobile", mobile, "content", gbk(text)), true).get("msgid").getAsLong();
    }

    long batchSend(List<String> mobiles, String text) throws IOException, InterruptedException {
        Map<String, Object> fields = Map.of("mobile", String.join(",", mobiles), "content", gbk(text));
        return call("batch_send", fields, true).get("msgid").getAsLong();
    }

    long multiSend(List<String[]> messages) throws IOException, InterruptedException {
        List<Map<String, String>> items = new ArrayList<>();
        for (String[] m : messages) items.add(Map.of("mobile", m[0], "content", gbk(m[1])));
        return call("multi_send", Map.of("multimt", items), false).get("msgid").getAsLong();
    }

    JsonArray getRpt() throws IOException, InterruptedException {
        JsonElement rpts = call("get_rpt", Map.of("retsize", 500), false).get("rpts");
        return rpts != null && rpts.isJsonArray() ? rpts.getAsJsonArray() : new JsonArray();
    }

    JsonObject getBalance() throws IOException, InterruptedException {
        return call("get_balance", Map.of(), false);
    }

    /** §3.3: mobile p of a send has msgid + p - 1; its segment k adds (k - 1) * 2^34. */
    static class ReportMatcher {
        final Map<Long, String> expected = new LinkedHashMap<>(); // per-mobile id → mobile
        final Map<Long, Integer> pktotal = new HashMap<>();
        final Map<Long, Set<Integer>> seen = new HashMap<>();
        int unmatched = 0;

        void sent(long msgid, List<String> mobiles) {
            for (int p = 1; p <= mobiles.size(); p++) expected.put(msgid + p - 1, mobiles.get(p - 1)); // long wraps
        }

        void report(JsonObject rpt) {
            int pknum = rpt.has("pknum") ? Math.max(rpt.get("pknum").getAsInt(), 1) : 1;
            long owner = rpt.get("msgid").getAsLong() - (pknum - 1) * SEGMENT_STRIDE;
            String mobile = expected.get(owner);
            if (mobile == null || !mobile.equals(rpt.get("mobile").getAsString())) {
                unmatched++;
                return;
            }
            pktotal.put(owner, rpt.has("pktotal") ? rpt.get("pktotal").getAsInt() : 1);
            seen.computeIfAbsent(owner, k -> new HashSet<>()).add(pknum);
        }

        boolean complete() {
            return expected.keySet().stream()
                    .allMatch(o -> seen.getOrDefault(o, Set.of()).size() == pktotal.getOrDefault(o, -1));
        }

        int segments() {
            return seen.values().stream().mapToInt(Set::size).sum();
        }
    }

    static String demo(SmsClient client, double pollWait, double deadline) throws Exception {
        ReportMatcher matcher = new ReportMatcher();
        String longText = "您的ETC账户本月通行费已扣款，明细请登录通渝App查看。".repeat(3); // 2 segments
        matcher.sent(client.singleSend("13800138000", longText), List.of("13800138000"));
        List<String> batch = List.of("13800138001", "13900139002", "13700137003");
        matcher.sent(client.batchSend(batch, "验证码：6666，打死都不要告诉别人哦！"), batch);
        List<String[]> multi = List.of(
                new String[] {"13800138004", "张先生，您的充值已到账"},
                new String[] {"13900139005", "李女士，您的充值已到账"});
        matcher.sent(client.multiSend(multi), List.of("13800138004", "13900139005"));
        long stop = System.nanoTime() + (long) (deadline * 1e9);
        while (!matcher.complete() && System.nanoTime() < stop) {
            JsonArray rpts = client.getRpt();
            for (JsonElement rpt : rpts) matcher.report(rpt.getAsJsonObject());
            if (rpts.size() == 0) Thread.sleep((long) (pollWait * 1000)); // §2.5.1 延时5秒 when empty
        }
        JsonObject balance = client.getBalance();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("complete", matcher.complete());
        summary.put("mobiles", matcher.expected.size());
        summary.put("segments", matcher.segments());
        summary.put("unmatched", matcher.unmatched);
        summary.put("balance", balance.get("balance").getAsLong());
        summary.put("chargetype", balance.get("chargetype").getAsInt());
        return new Gson().toJson(summary);
    }

    /** §2.7 / §2.8: answer a pushed MO_REQ / RPT_REQ at once, with its seqid. */
    static void receiver(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/", SmsClient::onPush);
        server.start();
        System.out.println("listening on " + port);
    }

    static void onPush(HttpExchange exchange) throws IOException {
        String raw = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.ISO_8859_1);
        Map<String, String> fields = new HashMap<>();
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq < 0) continue;
            String name = pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            // the document's examples send the list as a raw JSON array, others urlencode it
            fields.put(name, value.startsWith("[") ? value : URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        String cmd = fields.getOrDefault("cmd", "");
        long seqid = Long.parseLong(fields.getOrDefault("seqid", "0"));
        JsonObject answer = new JsonObject();
        answer.addProperty("cmd", cmd.equals("MO_REQ") ? "MO_RESP" : cmd.equals("RPT_REQ") ? "RPT_RESP" : "");
        answer.add("seqid", new JsonPrimitive(seqid));
        answer.addProperty("result", 0);
        byte[] body = answer.toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
        String list = fields.getOrDefault("rpts", fields.getOrDefault("mos", "[]"));
        System.out.println(cmd + " seqid=" + seqid + ": " + JsonParser.parseString(list).getAsJsonArray().size() + " item(s)");
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 1 && args[0].equals("receiver")) {
            receiver(Integer.parseInt(args[1]));
            return;
        }
        Map<String, String> env = System.getenv();
        SmsClient client = new SmsClient(
                env.getOrDefault("SMS_BASE_URL", "http://127.0.0.1:8080"),
                env.getOrDefault("SMS_USERID", "J10003"),
                env.getOrDefault("SMS_PASSWORD", "111111"));
        String summary = demo(client,
                Double.parseDouble(env.getOrDefault("SMS_POLL_WAIT", "5")),
                Double.parseDouble(env.getOrDefault("SMS_DEADLINE", "60")));
        System.out.println(summary);
        System.exit(summary.contains("\"complete\":true") && summary.contains("\"unmatched\":0") ? 0 : 1);
    }
}
