<?php
// A client of the SMS interface (attachment 6): PHP's curl and json extensions, iconv.
//
//   SMS_BASE_URL=http://127.0.0.1:8080 SMS_USERID=J10003 SMS_PASSWORD=111111 \
//       php sms_client.php demo          # send, match every report (§3.3), balance
//   php -S 127.0.0.1:9090 sms_client.php # the push receiver (§2.7, §2.8)

declare(strict_types=1);

const SEGMENT_STRIDE = 1 << 34; // §3.3 msgid + (pknum - 1) * 2^34

final class SmsClient
{
    public function __construct(
        private string $baseUrl,
        private string $userid,
        private string $password,
    ) {
        $this->baseUrl = rtrim($baseUrl, '/');
        $this->userid = strtoupper($userid); // §2.1.5 统一大写
    }

    /** §3.1 pwd = md5(userid . "00000000" . password . timestamp): a fresh China-time
     * MMDDHHMMSS for every request (not time(): Unix seconds are not the format). */
    public function credentials(): array
    {
        $now = new DateTimeImmutable('now', new DateTimeZone('Asia/Shanghai'));
        $timestamp = $now->format('mdHis');
        return [
            'userid' => $this->userid,
            'pwd' => md5($this->userid . '00000000' . $this->password . $timestamp),
            'timestamp' => $timestamp,
        ];
    }

    public function call(string $endpoint, array $fields, bool $asForm = false): array
    {
        $fields = $this->credentials() + $fields;
        if ($asForm) { // content is urlencoded GBK already: it goes in as is (§2.1.7)
            $pairs = [];
            foreach ($fields as $name => $value) {
                $pairs[] = $name . '=' . ($name === 'content' ? $value : rawurlencode((string) $value));
            }
            [$body, $type] = [implode('&', $pairs), 'application/x-www-form-urlencoded'];
        } else {
            [$body, $type] = [json_encode($fields, JSON_UNESCAPED_SLASHES), 'application/json'];
        }
        $curl = curl_init($this->baseUrl . '/sms/v2/std/' . $endpoint);
        curl_setopt_array($curl, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => ["Content-Type: $type"],
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 30,
        ]);
        $payload = curl_exec($curl);
        $answerType = (string) curl_getinfo($curl, CURLINFO_CONTENT_TYPE);
        curl_close($curl);
        if ($payload === false || !str_starts_with($answerType, 'application/json')) {
            throw new RuntimeException("$endpoint: answer is '$answerType', not JSON");
        }
        // PHP ints are 64-bit: msgid stays exact (JSON_BIGINT_AS_STRING guards the rest)
        $answer = json_decode($payload, true, 512, JSON_BIGINT_AS_STRING | JSON_THROW_ON_ERROR);
        if (!is_int($answer['result'] ?? null)) {
            throw new RuntimeException("$endpoint: result is not a number");
        }
        if ($answer['result'] !== 0) {
            throw new RuntimeException("$endpoint: result {$answer['result']}");
        }
        return $answer;
    }

    public function singleSend(string $mobile, string $text): int
    {
        return $this->call('single_send', ['mobile' => $mobile, 'content' => gbk($text)], true)['msgid'];
    }

    public function batchSend(array $mobiles, string $text): int
    {
        $fields = ['mobile' => implode(',', $mobiles), 'content' => gbk($text)];
        return $this->call('batch_send', $fields, true)['msgid'];
    }

    public function multiSend(array $messages): int
    {
        $items = [];
        foreach ($messages as [$mobile, $text]) {
            $items[] = ['mobile' => $mobile, 'content' => gbk($text)];
        }
        return $this->call('multi_send', ['multimt' => $items])['msgid'];
    }

    public function getRpt(int $retsize = 500): array
    {
        $rpts = $this->call('get_rpt', ['retsize' => $retsize])['rpts'];
        return is_array($rpts) ? $rpts : [];
    }

    public function getBalance(): array
    {
        return $this->call('get_balance', []);
    }
}

/** §2.1.5 content = urlencode(GBK text). */
function gbk(string $text): string
{
    return rawurlencode(iconv('UTF-8', 'GBK', $text));
}

/** Java/C# long addition: §3.3 ids may wrap (PHP would turn the sum into a float). */
function add64(int $a, int $b): int
{
    $sum = $a + $b;
    if (is_int($sum)) {
        return $sum;
    }
    return $a >= 0 ? ($a + PHP_INT_MIN + $b) + PHP_INT_MIN : ($a - PHP_INT_MIN + $b) - PHP_INT_MIN;
}

/** §3.3: mobile p of a send has msgid + p - 1; its segment k adds (k - 1) * 2^34. */
final class ReportMatcher
{
    public array $expected = []; // per-mobile id => mobile
    public array $pktotal = [];
    public array $seen = [];
    public int $unmatched = 0;

    public function sent(int $msgid, array $mobiles): void
    {
        foreach (array_values($mobiles) as $i => $mobile) {
            $this->expected[add64($msgid, $i)] = $mobile;
        }
    }

    public function report(array $rpt): void
    {
        $pknum = max((int) ($rpt['pknum'] ?? 1), 1);
        $owner = add64((int) $rpt['msgid'], -($pknum - 1) * SEGMENT_STRIDE);
        if (($this->expected[$owner] ?? null) !== ($rpt['mobile'] ?? '')) {
            $this->unmatched++;
            return;
        }
        $this->pktotal[$owner] = max((int) ($rpt['pktotal'] ?? 1), 1);
        $this->seen[$owner][$pknum] = true;
    }

    public function complete(): bool
    {
        foreach (array_keys($this->expected) as $owner) {
            if (count($this->seen[$owner] ?? []) !== ($this->pktotal[$owner] ?? -1)) {
                return false;
            }
        }
        return true;
    }

    public function segments(): int
    {
        return array_sum(array_map('count', $this->seen));
    }
}

function demo(SmsClient $client, float $pollWait, float $deadline): array
{
    $matcher = new ReportMatcher();
    $long = str_repeat('您的ETC账户本月通行费已扣款，明细请登录通渝App查看。', 3); // 2 segments
    $matcher->sent($client->singleSend('13800138000', $long), ['13800138000']);
    $batch = ['13800138001', '13900139002', '13700137003'];
    $matcher->sent($client->batchSend($batch, '验证码：6666，打死都不要告诉别人哦！'), $batch);
    $multi = [['13800138004', '张先生，您的充值已到账'], ['13900139005', '李女士，您的充值已到账']];
    $matcher->sent($client->multiSend($multi), array_column($multi, 0));
    $stop = microtime(true) + $deadline;
    while (!$matcher->complete() && microtime(true) < $stop) {
        $rpts = $client->getRpt();
        foreach ($rpts as $rpt) {
            $matcher->report($rpt);
        }
        if (!$rpts) {
            usleep((int) ($pollWait * 1e6)); // §2.5.1 延时5秒 after an empty answer
        }
    }
    $balance = $client->getBalance();
    return [
        'complete' => $matcher->complete(),
        'mobiles' => count($matcher->expected),
        'segments' => $matcher->segments(),
        'unmatched' => $matcher->unmatched,
        'balance' => $balance['balance'],
        'chargetype' => $balance['chargetype'],
    ];
}

/** §2.7 / §2.8: answer a pushed MO_REQ / RPT_REQ at once, with its seqid. */
function receive_push(): void
{
    $raw = (string) file_get_contents('php://input');
    $fields = [];
    foreach (explode('&', $raw) as $pair) {
        [$name, $value] = array_pad(explode('=', $pair, 2), 2, '');
        // the document's examples send the list as a raw JSON array, others urlencode it
        $fields[$name] = str_starts_with($value, '[') ? $value : urldecode($value);
    }
    $cmd = $fields['cmd'] ?? '';
    $answers = ['RPT_REQ' => 'RPT_RESP', 'MO_REQ' => 'MO_RESP'];
    header('Content-Type: application/json');
    echo json_encode(['cmd' => $answers[$cmd] ?? '', 'seqid' => (int) ($fields['seqid'] ?? 0), 'result' => 0]);
    $items = json_decode($fields['rpts'] ?? $fields['mos'] ?? '[]', true, 512, JSON_BIGINT_AS_STRING) ?? [];
    error_log("$cmd seqid={$fields['seqid']}: " . count($items) . ' item(s)');
}

if (PHP_SAPI !== 'cli') {
    receive_push();
    return;
}
$client = new SmsClient(
    getenv('SMS_BASE_URL') ?: 'http://127.0.0.1:8080',
    getenv('SMS_USERID') ?: 'J10003',
    getenv('SMS_PASSWORD') ?: '111111',
);
$summary = demo($client, (float) (getenv('SMS_POLL_WAIT') ?: 5), (float) (getenv('SMS_DEADLINE') ?: 60));
echo json_encode($summary), "\n";
exit($summary['complete'] && $summary['unmatched'] === 0 ? 0 : 1);
