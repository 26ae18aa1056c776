// Cron schedules of a function, their recorded slots and upcoming fire times.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { CreateSchedule, Schedule, ScheduleRun, ScheduleRunFilters, UpdateSchedule } from "../types.js";

export class Schedules {
  constructor(private readonly http: Transport) {}

  private path(fn: string, id?: number): string {
    const base = `${API}/functions/${seg(fn)}/schedules`;
    return id === undefined ? base : `${base}/${seg(id)}`;
  }

  async list(fn: string, options?: RequestOptions): Promise<Schedule[]> {
    const r = await this.http.request<{ schedules: Schedule[] }>({ method: "GET", path: this.path(fn) }, options);
    return r.schedules;
  }

  get(fn: string, id: number, options?: RequestOptions): Promise<Schedule> {
    return this.http.request({ method: "GET", path: this.path(fn, id) }, options);
  }

  /** Adds a schedule: `{cron, timezone = "UTC", input?, enabled?, overlap?, catch_up?}`. */
  create(fn: string, schedule: CreateSchedule, options?: RequestOptions): Promise<Schedule> {
    return this.http.request({ method: "POST", path: this.path(fn), body: schedule }, options);
  }

  update(fn: string, id: number, patch: UpdateSchedule, options?: RequestOptions): Promise<Schedule> {
    return this.http.request({ method: "PATCH", path: this.path(fn, id), body: patch }, options);
  }

  async delete(fn: string, id: number, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: this.path(fn, id) }, options);
  }

  /** The next `count` (default 5) fire times, as RFC 3339 strings. */
  async preview(fn: string, id: number, query: { count?: number } = {}, options?: RequestOptions): Promise<string[]> {
    const r = await this.http.request<{ next: string[] }>(
      { method: "GET", path: `${this.path(fn, id)}/preview`, query },
      options,
    );
    return r.next;
  }

  /** Recorded slots, newest first; page with `before` = the last run's `slot_at`. */
  async runs(fn: string, id: number, filters: ScheduleRunFilters = {}, options?: RequestOptions): Promise<ScheduleRun[]> {
    const r = await this.http.request<{ runs: ScheduleRun[] }>(
      { method: "GET", path: `${this.path(fn, id)}/runs`, query: filters },
      options,
    );
    return r.runs;
  }
}
