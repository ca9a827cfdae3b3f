"""The brief as Markdown or HTML text (the key figure embedded as PNG or inline SVG); nothing is
written here: the API writes the returned string."""

from __future__ import annotations

import base64
import html

from forecast.report.brief import (Brief, change_note, footer_lines, fresh_cells, freshness_note, lens_items, questions,
                                   title)
from forecast.report.brief_figure import figure_bytes, key_figure


def render_markdown(b: Brief) -> str:
    r = b.report
    out = [f"# {title(b)}", "", questions(b), "",
           f"Data through {r['as_of']}, preset '{r['preset']}'. Generated {b.generated_utc}.", ""]
    for w in b.warnings:
        out += [f"> **{w}**", ""]
    ch = b.has_change
    out += ["## Headline probabilities", "",
            "| | mean | 80% interval |" + (" change |" if ch else ""), "|---|---:|---:|" + ("---:|" if ch else "")]
    for h in b.headlines:
        out.append(f"| {h.label} | **{h.mean}** | {h.lo80} to {h.hi80} |" + (f" {h.change or 'n/a'} |" if ch else ""))
    out += ["", change_note(b)]
    if b.what_changed:
        out += ["", b.what_changed]
    out += ["", "## Top drivers", ""] + [f"{i}. {t}" for i, t in enumerate(b.drivers, 1)]
    out += ["", "## The three lenses now", ""] + [f"- {t}" for t in lens_items(b)]
    png = base64.b64encode(figure_bytes(key_figure(b), "png")).decode()
    out += ["", "## Key figure", "",
            ("Posterior of each headline probability (80% and 95% equal-tailed intervals) against the prior-only "
            "forecast and the outside view."), "", f"![Key figure](data:image/png;base64,{png})", ""]
    out += ["## Data freshness", "", "| indicator | lens | latest | value | age | flag |", "|---|---|---:|---:|---:|---|"]
    for x in b.freshness:
        v, age, flag = fresh_cells(b, x)
        out.append(f"| {x.display_name or x.indicator} | {x.lens} | {x.last_year} | {v} | {age} | {flag} |")
    out += ["", freshness_note(), "", "## Diagnostics", "", f"**{b.diagnostics_text}**", "", "---", ""]
    out += [f"<sub>{line}</sub>  " for line in footer_lines(b)]
    return "\n".join(out) + "\n"



def render_html(b: Brief) -> str:
    from forecast.report import style as S

    e = html.escape
    r = b.report
    svg = figure_bytes(key_figure(b), "svg").decode()
    svg = svg[svg.index("<svg"):]
    ch = b.has_change
    rows = "".join(f"<tr><th>{e(h.label)}</th><td class=num><b>{e(h.mean)}</b></td><td class=num>{e(h.lo80)} to "
                   f"{e(h.hi80)}</td>" + (f"<td class=num>{e(h.change or 'n/a')}</td>" if ch else "") + "</tr>"
                   for h in b.headlines)
    change_th = "<th class=num>change</th>" if ch else ""
    fresh = ""
    for x in b.freshness:
        v, age, flag = fresh_cells(b, x)
        fresh += (f"<tr{' class=stale' if x.stale else ''}><td>{e(x.display_name or x.indicator)}</td>"
                  f"<td>{e(x.lens)}</td>"
                  f"<td class=num>{x.last_year}</td><td class=num>{e(v)}</td><td class=num>{e(age)}</td>"
                  f"<td>{e(flag)}</td></tr>")
    warn = "".join(f"<p class=warn>{e(w)}</p>" for w in b.warnings)
    badge = "ok" if b.diagnostics_ok else "fail"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title(b))}</title>
<style>
@page {{ size: A4; margin: 14mm; }}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; max-width: 182mm; margin: auto; color: #111; }}
h1 {{ font-size: 15pt; margin: 0 0 2pt; }} h2 {{ font-size: 11pt; margin: 10pt 0 3pt; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 1pt 6pt; text-align: left; }}
.num {{ text-align: right; }} .small {{ font-size: 8pt; color: #444; }}
.warn {{ border: 2px solid {S.FAIL}; color: {S.FAIL}; font-weight: bold; padding: 4pt; }}
.badge {{ padding: 3pt 6pt; font-weight: bold; border: 2px solid; }}
.badge.ok {{ color: {S.OK}; border-color: {S.OK}; }} .badge.fail {{ color: {S.FAIL}; border-color: {S.FAIL}; }}
.fresh td {{ font-size: 8pt; padding: 0 5pt; }} tr.stale td {{ font-weight: bold; }}
svg {{ width: 100%; height: auto; }}
</style></head><body>
<h1>{e(title(b))}</h1>
<p>{e(questions(b))}</p>
<p class=small>Data through {r['as_of']}, preset '{e(r['preset'])}'. Generated {e(b.generated_utc)}.</p>
{warn}
<h2>Headline probabilities</h2>
<table><tr><th></th><th class=num>mean</th><th class=num>80% interval</th>{change_th}</tr>
{rows}</table>
<p class=small>{e(change_note(b))}</p>
{f'<p>{e(b.what_changed)}</p>' if b.what_changed else ''}
<h2>Top drivers</h2><ol>{''.join(f'<li>{e(t)}</li>' for t in b.drivers)}</ol>
<h2>The three lenses now</h2><ul>{''.join(f'<li>{e(t)}</li>' for t in lens_items(b))}</ul>
<h2>Key figure</h2>
<figure>{svg}<figcaption class=small>Posterior of each headline probability (80% and 95% equal-tailed intervals)
against the prior-only forecast and the outside view.</figcaption></figure>
<h2>Data freshness</h2>
<table class=fresh><tr><th>indicator</th><th>lens</th><th class=num>latest</th><th class=num>value</th>
<th class=num>age</th><th>flag</th></tr>{fresh}</table>
<p class=small>{e(freshness_note())}</p>
<p><span class="badge {badge}">{e(b.diagnostics_text)}</span></p>
<hr><p class=small>{'<br>'.join(e(x) for x in footer_lines(b))}</p>
</body></html>
"""
