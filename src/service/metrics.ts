/** Request counters and latency sums in Prometheus' text format (GET /metrics). */

interface RouteStats {
  count: number;
  seconds: number;
}

export class ServiceMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, RouteStats>();
  private readonly startedAt = Date.now();
  embedSeconds = 0;
  embedImages = 0;

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const lk = `method="${method}",route="${route}"`;
    const s = this.latency.get(lk) ?? { count: 0, seconds: 0 };
    s.count++;
    s.seconds += seconds;
    this.latency.set(lk, s);
  }

  observeEmbedding(images: number, seconds: number): void {
    this.embedImages += images;
    this.embedSeconds += seconds;
  }

  render(gauges: Record<string, number>): string {
    const lines: string[] = [];
    lines.push('# HELP fewshot_http_requests_total HTTP requests by route and status.', '# TYPE fewshot_http_requests_total counter');
    for (const [k, v] of this.requests) lines.push(`fewshot_http_requests_total{${k}} ${v}`);
    lines.push('# HELP fewshot_http_request_duration_seconds Time spent answering, by route.', '# TYPE fewshot_http_request_duration_seconds summary');
    for (const [k, s] of this.latency) {
      lines.push(`fewshot_http_request_duration_seconds_sum{${k}} ${s.seconds}`);
      lines.push(`fewshot_http_request_duration_seconds_count{${k}} ${s.count}`);
    }
    lines.push('# TYPE fewshot_embedded_images_total counter', `fewshot_embedded_images_total ${this.embedImages}`);
    lines.push('# TYPE fewshot_embedding_seconds_total counter', `fewshot_embedding_seconds_total ${this.embedSeconds}`);
    lines.push('# TYPE fewshot_uptime_seconds gauge', `fewshot_uptime_seconds ${(Date.now() - this.startedAt) / 1000}`);
    for (const [name, v] of Object.entries(gauges)) lines.push(`# TYPE fewshot_${name} gauge`, `fewshot_${name} ${v}`);
    return lines.join('\n') + '\n';
  }
}
