/* bench/floors/curl_floor.c: the transport floor of the benchmark suite.
 *
 *   curl_floor curl w3get|w3put DATADIR ENDPOINT
 *
 * The same POST dynamo makes for w3, on one reused libcurl handle: the body
 * from DATADIR/get_request.json or put_request.json and the same headers
 * (Content-Type, X-Amz-Target, Host, X-Amz-Date, an Authorization of the
 * same length), but nothing computed: no signing, no encoding, and no look
 * at the answer beyond its status. 50 warm-up requests, then 1,000 timed. Prints
 * one JSON line: wall and CPU seconds per request (CPU of the process,
 * user + system). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARM 50
#define COUNT 1000

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "curl_floor: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static char *read_file(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    if (fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("cannot size", path);
    char *data = malloc((size_t)*len + 1);
    if (!data || fread(data, 1, (size_t)*len, f) != (size_t)*len)
        die("cannot read", path);
    data[*len] = '\0';
    fclose(f);
    return data;
}

/* The answer is read and dropped: the floor pays for receiving it only. */
static size_t discard(char *data, size_t size, size_t n, void *received)
{
    (void)data;
    *(size_t *)received += size * n;
    return size * n;
}

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void post(CURL *curl, size_t *received)
{
    *received = 0;
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        die("request failed", curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || *received == 0)
        die("unexpected answer", "not 200 with a body");
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[2], "w3get") != 0 && strcmp(argv[2], "w3put") != 0))
        die("usage", "curl_floor curl w3get|w3put DATADIR ENDPOINT");
    int get = strcmp(argv[2], "w3get") == 0;

    size_t pathlen = strlen(argv[3]) + sizeof "/put_request.json";
    char *path = malloc(pathlen);
    if (!path)
        die("out of memory", NULL);
    snprintf(path, pathlen, "%s/%s", argv[3], get ? "get_request.json" : "put_request.json");
    long len;
    char *body = read_file(path, &len);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    if (!curl)
        die("curl_easy_init failed", NULL);
    const char *authority = strstr(argv[4], "://") ? strstr(argv[4], "://") + 3 : argv[4];
    size_t hostlen = strlen(authority) + sizeof "Host: ";
    char *host = malloc(hostlen);
    if (!host)
        die("out of memory", NULL);
    snprintf(host, hostlen, "Host: %.*s", (int)strcspn(authority, "/"), authority);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.0");
    headers = curl_slist_append(headers, get ? "X-Amz-Target: DynamoDB_20120810.GetItem"
                                             : "X-Amz-Target: DynamoDB_20120810.PutItem");
    headers = curl_slist_append(headers, host);
    headers = curl_slist_append(headers, "X-Amz-Date: 20261121T000000Z");
    headers = curl_slist_append(headers, "Authorization: AWS4-HMAC-SHA256 "
        "Credential=AKIDBENCH/20261121/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000");
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    size_t received = 0;
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* as dynamo: no SIGPIPE handler per request */
    curl_easy_setopt(curl, CURLOPT_URL, argv[4]);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);

    for (int i = 0; i < WARM; i++)
        post(curl, &received);
    double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < COUNT; i++)
        post(curl, &received);
    double wall = seconds(CLOCK_MONOTONIC) - w0, cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("{\"wall\":%.9f,\"cpu\":%.9f,\"n\":%d}\n", wall / COUNT, cpu / COUNT, COUNT);

    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(body);
    free(host);
    free(path);
    return 0;
}
