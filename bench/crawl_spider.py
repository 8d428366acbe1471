"""The Scrapy baseline of bench/crawl: a CrawlSpider that follows every link on the benchmark hosts.

    scrapy runspider bench/crawl_spider.py -a hosts=127.0.0.2,127.0.0.3 -a port=PORT -a stats=FILE

Robots.txt obeyed, no delay, no AutoThrottle, 64 requests in flight (no per-host cap below that), links limited to the
given hosts. Writes Scrapy's stats as JSON to FILE when the crawl ends (LOG_LEVEL WARNING hides the stats dump).
"""
import json

from scrapy import Request
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class BenchCrawlSpider(CrawlSpider):
    name = "bench_crawl"
    custom_settings = {
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 64,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 30,
    }

    def __init__(self, hosts="", port="80", stats="", *args, **kwargs):
        self.hosts = [h for h in hosts.split(",") if h]
        self.allowed_domains = list(self.hosts)
        self.start_urls = [f"http://{h}:{port}/" for h in self.hosts]
        self.stats_path = stats
        self.pages = 0
        # LinkExtractor matches allow_domains against host:port; OffsiteMiddleware matches allowed_domains
        # against the host alone.
        extractor = LinkExtractor(allow_domains=[f"{h}:{port}" for h in self.hosts])
        self.rules = (Rule(extractor, callback="parse_page", follow=True),)
        super().__init__(*args, **kwargs)

    # Scrapy sends start URLs with dont_filter=True, so their fingerprints never reach the duplicate filter and a
    # link back to a host's / fetches it again. A crawler fetches each URL once: let the filter see them.
    async def start(self):
        for url in self.start_urls:
            yield Request(url, dont_filter=False)

    def start_requests(self):  # Scrapy before 2.13
        for url in self.start_urls:
            yield Request(url, dont_filter=False)

    def parse_start_url(self, response):
        return self.parse_page(response)

    def parse_page(self, response):
        self.pages += 1
        return []

    def closed(self, reason):
        if self.stats_path:
            stats = {k: (v if isinstance(v, (int, float, str)) else str(v))
                     for k, v in self.crawler.stats.get_stats().items()}
            stats["bench/pages_parsed"] = self.pages
            stats["bench/finish_reason"] = reason
            with open(self.stats_path, "w") as f:
                json.dump(stats, f, indent=1, sort_keys=True)
