extension Dashboard {
    /// Light and dark (following the system); status marked by a symbol and words as
    /// well as colour; tables scroll sideways on a narrow screen.
    static let style = #"""
    <style>
      :root { --fg: #1d2330; --muted: #5b6475; --bg: #fafbfc; --panel: #fff; --line: #e4e7ec; --head: #f1f3f6;
              --ok: #14532d; --okbg: #d9f2e3; --bad: #7f1d1d; --badbg: #fde2e1; --run: #1e3a8a; --runbg: #dbeafe;
              --warn: #78350f; --warnbg: #fef3c7; --wait: #4c1d95; --waitbg: #ede9fe; --link: #1d4ed8; }
      @media (prefers-color-scheme: dark) {
        :root { --fg: #e6e8ee; --muted: #a3abba; --bg: #14161b; --panel: #1c1f26; --line: #2d323c; --head: #242832;
                --ok: #bbf7d0; --okbg: #14532d; --bad: #fecaca; --badbg: #7f1d1d; --run: #bfdbfe; --runbg: #1e3a8a;
                --warn: #fde68a; --warnbg: #78350f; --wait: #ddd6fe; --waitbg: #4c1d95; --link: #93c5fd; }
      }
      body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1rem 1.2rem; max-width: 1400px; color: var(--fg); background: var(--bg); }
      a { color: var(--link); }
      header { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: baseline; }
      h1 { font-size: 1.3rem; margin: 0; } h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; } h3 { font-size: .95rem; margin: 1rem 0 .3rem; }
      nav a { margin-right: .6rem; font-weight: 600; } nav a[aria-current="page"] { text-decoration: none; color: var(--fg); border-bottom: 2px solid var(--fg); }
      .meta, .note { color: var(--muted); font-size: .85rem; }
      button { font: inherit; padding: .15rem .55rem; border: 1px solid var(--line); border-radius: .3rem; background: var(--panel); color: var(--fg); cursor: pointer; }
      button:focus-visible, a:focus-visible, select:focus-visible, input:focus-visible { outline: 2px solid var(--link); outline-offset: 2px; }
      button.danger { border-color: var(--bad); color: var(--bad); }
      .scroll { overflow-x: auto; }
      table { border-collapse: collapse; width: 100%; background: var(--panel); }
      th, td { text-align: left; padding: .3rem .42rem; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
      th { font-weight: 600; color: var(--muted); background: var(--head); }
      td.small { font-size: .8rem; line-height: 1.3; } td.num { text-align: right; font-variant-numeric: tabular-nums; } td.wrap { white-space: normal; min-width: 10rem; max-width: 22rem; }
      code { font-size: .85rem; }
      progress { width: 4.5rem; height: .8rem; vertical-align: middle; }
      .status { padding: .05rem .45rem; border-radius: .6rem; font-size: .8rem; white-space: nowrap; }
      .succeeded { background: var(--okbg); color: var(--ok); } .failed { background: var(--badbg); color: var(--bad); font-weight: 700; }
      .running { background: var(--runbg); color: var(--run); } .queued { background: var(--head); color: var(--muted); border: 1px dotted var(--muted); }
      .cancelled, .partial { background: var(--warnbg); color: var(--warn); }
      .waiting { background: var(--waitbg); color: var(--wait); border: 1px dashed var(--wait); }
      .items-failed { background: var(--badbg); color: var(--bad); border: 2px solid var(--bad); font-weight: 700; }
      .items-some { background: var(--warnbg); color: var(--warn); }
      tr.row-failed td:first-child { box-shadow: inset 4px 0 var(--bad); } tr.row-waiting td:first-child { box-shadow: inset 4px 0 var(--wait); }
      #error { color: var(--bad); font-weight: 600; } #outcome { min-height: 1.2rem; margin: .3rem 0; }
      #outcome.bad { color: var(--bad); } #outcome.good { color: var(--ok); }
      form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .6rem 0; }
      form.filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
      select, input { font: inherit; padding: .1rem .3rem; background: var(--panel); color: var(--fg); border: 1px solid var(--line); }
      dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .4rem 0; }
      dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
      pre.log { max-height: 24rem; overflow: auto; background: var(--head); padding: .5rem; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; }
      svg.strip { vertical-align: middle; } .pager { margin: .5rem 0; display: flex; gap: .6rem; align-items: center; }
      #token-form[hidden] { display: none; }
      #token-form { margin: .5rem 0; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
      dialog { border: 1px solid var(--line); background: var(--panel); color: var(--fg); }
      @media (max-width: 700px) { body { padding: .6rem; } th, td { padding: .25rem .35rem; } }
    </style>

    """#
}
