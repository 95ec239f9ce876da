// A client of the SMS interface (attachment 6): net/http, encoding/json (json.Number
// for the 64-bit msgid) and golang.org/x/text for GBK (Debian: golang-golang-x-text-dev).
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o smsclient .
//	SMS_BASE_URL=http://127.0.0.1:8080 SMS_USERID=J10003 SMS_PASSWORD=111111 ./smsclient demo
//	./smsclient receiver 9090
package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

const segmentStride = int64(1) << 34 // §3.3 msgid + (pknum - 1) * 2^34

var china = time.FixedZone("CST", 8*3600) // §3.1 China time

type Client struct {
	BaseURL, UserID, Password string
	HTTP                      *http.Client
}

type field struct {
	name  string
	value any
}

// credentials: §3.1 pwd = md5(userid + "00000000" + password + timestamp), with a fresh
// MMDDHHMMSS China-time timestamp for every request.
func (c *Client) credentials() []field {
	timestamp := time.Now().In(china).Format("0102150405")
	sum := md5.Sum([]byte(c.UserID + "00000000" + c.Password + timestamp))
	return []field{{"userid", c.UserID}, {"pwd", hex.EncodeToString(sum[:])}, {"timestamp", timestamp}}
}

// gbk: §2.1.5 content = urlencode(GBK text).
func gbk(text string) string {
	encoded, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		panic(err)
	}
	return url.QueryEscape(encoded)
}

func (c *Client) call(endpoint string, extra []field, asForm bool) (map[string]any, error) {
	fields := append(c.credentials(), extra...)
	var body []byte
	contentType := "application/json"
	if asForm { // content is urlencoded GBK already: it goes in as is (§2.1.7)
		pairs := make([]string, len(fields))
		for i, f := range fields {
			value := fmt.Sprint(f.value)
			if f.name != "content" {
				value = url.QueryEscape(value)
			}
			pairs[i] = f.name + "=" + value
		}
		body, contentType = []byte(strings.Join(pairs, "&")), "application/x-www-form-urlencoded"
	} else {
		object := map[string]any{}
		for _, f := range fields {
			object[f.name] = f.value
		}
		body, _ = json.Marshal(object)
	}
	resp, err := c.HTTP.Post(c.BaseURL+"/sms/v2/std/"+endpoint, contentType, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if answerType := resp.Header.Get("Content-Type"); !strings.HasPrefix(answerType, "application/json") {
		return nil, fmt.Errorf("%s: answer is %q, not JSON", endpoint, answerType)
	}
	decoder := json.NewDecoder(resp.Body)
	decoder.UseNumber() // a float64 would round a msgid beyond 2^53
	var answer map[string]any
	if err := decoder.Decode(&answer); err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	result, ok := answer["result"].(json.Number)
	if !ok {
		return nil, fmt.Errorf("%s: result %v is not a number", endpoint, answer["result"])
	}
	if result.String() != "0" {
		return nil, fmt.Errorf("%s: result %s", endpoint, result)
	}
	return answer, nil
}

func integer(value any) int64 {
	n, err := value.(json.Number).Int64()
	if err != nil {
		panic(err)
	}
	return n
}

func (c *Client) send(endpoint string, fields []field, asForm bool) int64 {
	answer, err := c.call(endpoint, fields, asForm)
	if err != nil {
		panic(err)
	}
	return integer(answer["msgid"])
}

func (c *Client) SingleSend(mobile, text string) int64 {
	return c.send("single_send", []field{{"mobile", mobile}, {"content", gbk(text)}}, true)
}

func (c *Client) BatchSend(mobiles []string, text string) int64 {
	return c.send("batch_send", []field{{"mobile", strings.Join(mobiles, ",")}, {"content", gbk(text)}}, true)
}

func (c *Client) MultiSend(messages [][2]string) int64 {
	items := []map[string]string{}
	for _, m := range messages {
		items = append(items, map[string]string{"mobile": m[0], "content": gbk(m[1])})
	}
	return c.send("multi_send", []field{{"multimt", items}}, false)
}

func (c *Client) GetRpt() []map[string]any {
	answer, err := c.call("get_rpt", []field{{"retsize", 500}}, false)
	if err != nil {
		panic(err)
	}
	rpts, _ := answer["rpts"].([]any)
	out := []map[string]any{}
	for _, r := range rpts {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (c *Client) GetBalance() map[string]any {
	answer, err := c.call("get_balance", nil, false)
	if err != nil {
		panic(err)
	}
	return answer
}

// Matcher: §3.3 mobile p of a send has msgid + p - 1; its segment k adds (k - 1) * 2^34
// (int64 arithmetic wraps as the document's Java/C# long does).
type Matcher struct {
	expected  map[int64]string // per-mobile id → mobile
	pktotal   map[int64]int64
	seen      map[int64]map[int64]bool
	unmatched int
}

func (m *Matcher) Sent(msgid int64, mobiles []string) {
	for p, mobile := range mobiles {
		m.expected[msgid+int64(p)] = mobile
	}
}

func (m *Matcher) Report(rpt map[string]any) {
	pknum := int64(1)
	if v, ok := rpt["pknum"]; ok && integer(v) > 1 {
		pknum = integer(v)
	}
	owner := integer(rpt["msgid"]) - (pknum-1)*segmentStride
	if mobile, ok := m.expected[owner]; !ok || mobile != rpt["mobile"] {
		m.unmatched++
		return
	}
	m.pktotal[owner] = integer(rpt["pktotal"])
	if m.seen[owner] == nil {
		m.seen[owner] = map[int64]bool{}
	}
	m.seen[owner][pknum] = true
}

func (m *Matcher) Complete() bool {
	for owner := range m.expected {
		total, ok := m.pktotal[owner]
		if !ok || int64(len(m.seen[owner])) != total {
			return false
		}
	}
	return true
}

func (m *Matcher) Segments() (n int) {
	for _, pknums := range m.seen {
		n += len(pknums)
	}
	return n
}

func demo(c *Client, pollWait, deadline time.Duration) map[string]any {
	m := &Matcher{map[int64]string{}, map[int64]int64{}, map[int64]map[int64]bool{}, 0}
	long := strings.Repeat("您的ETC账户本月通行费已扣款，明细请登录通渝App查看。", 3) // 2 segments
	m.Sent(c.SingleSend("13800138000", long), []string{"13800138000"})
	batch := []string{"13800138001", "13900139002", "13700137003"}
	m.Sent(c.BatchSend(batch, "验证码：6666，打死都不要告诉别人哦！"), batch)
	multi := [][2]string{{"13800138004", "张先生，您的充值已到账"}, {"13900139005", "李女士，您的充值已到账"}}
	m.Sent(c.MultiSend(multi), []string{"13800138004", "13900139005"})
	stop := time.Now().Add(deadline)
	for !m.Complete() && time.Now().Before(stop) {
		rpts := c.GetRpt()
		for _, rpt := range rpts {
			m.Report(rpt)
		}
		if len(rpts) == 0 {
			time.Sleep(pollWait) // §2.5.1 延时5秒 after an empty answer; at once after data
		}
	}
	balance := c.GetBalance()
	return map[string]any{
		"complete": m.Complete(), "mobiles": len(m.expected), "segments": m.Segments(),
		"unmatched": m.unmatched, "balance": integer(balance["balance"]),
		"chargetype": integer(balance["chargetype"]),
	}
}

// onPush: §2.7 / §2.8 answer a pushed MO_REQ / RPT_REQ at once, with its seqid.
func onPush(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	fields := map[string]string{}
	for _, pair := range strings.Split(string(raw), "&") {
		name, value, _ := strings.Cut(pair, "=")
		if !strings.HasPrefix(value, "[") { // the document's examples send the list raw
			value, _ = url.QueryUnescape(value)
		}
		fields[name] = value
	}
	seqid, _ := strconv.ParseInt(fields["seqid"], 10, 64)
	answers := map[string]string{"RPT_REQ": "RPT_RESP", "MO_REQ": "MO_RESP"}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"cmd": answers[fields["cmd"]], "seqid": seqid, "result": 0})
	list := fields["rpts"] + fields["mos"]
	decoder := json.NewDecoder(strings.NewReader(list))
	decoder.UseNumber()
	var items []map[string]any
	decoder.Decode(&items)
	fmt.Printf("%s seqid=%d: %d item(s)\n", fields["cmd"], seqid, len(items))
}

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func seconds(name, fallback string) time.Duration {
	value, err := strconv.ParseFloat(env(name, fallback), 64)
	if err != nil {
		panic(err)
	}
	return time.Duration(value * float64(time.Second))
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "receiver" {
		fmt.Println("listening on " + os.Args[2])
		panic(http.ListenAndServe("127.0.0.1:"+os.Args[2], http.HandlerFunc(onPush)))
	}
	c := &Client{
		BaseURL:  strings.TrimRight(env("SMS_BASE_URL", "http://127.0.0.1:8080"), "/"),
		UserID:   strings.ToUpper(env("SMS_USERID", "J10003")), // §2.1.5 统一大写
		Password: env("SMS_PASSWORD", "111111"),
		HTTP:     &http.Client{Timeout: 30 * time.Second},
	}
	summary := demo(c, seconds("SMS_POLL_WAIT", "5"), seconds("SMS_DEADLINE", "60"))
	out, _ := json.Marshal(summary)
	fmt.Println(string(out))
	if summary["complete"] != true || summary["unmatched"] != 0 {
		os.Exit(1)
	}
}
