"""Draw docs/figures/netlist_schematic.png: a 4x4 crossbar tile and one DW-LIF neuron cell.

Run: .venv/bin/python docs/gen_schematic.py
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.patches import FancyBboxPatch, Rectangle

from spinspice.io import pyplot, save_figure

OUT = Path(__file__).parent / "figures" / "netlist_schematic.png"


def _box(ax, x, y, w, h, text, color="#eef3fb", fs=6):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02", fc=color, ec="black", lw=0.8))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fs)


def _res(ax, x, y, color):
    ax.add_patch(Rectangle((x - 0.09, y - 0.05), 0.18, 0.1, fc=color, ec="black", lw=0.6, zorder=3))


def crossbar(ax) -> None:
    n = 4
    for i in range(n + 1):
        y = 4.2 - i * 0.8
        label = f"row {i}" if i < n else "bias row"
        _box(ax, -0.2, y - 0.2, 1.0, 0.4, f"driver\n{label}", "#fdf0d5", 6)
        ax.plot([0.8, 7.3], [y, y], color="#555", lw=1)
        for j in range(n):
            xp, xn = 1.4 + j * 1.5, 2.0 + j * 1.5
            ax.plot([xp, xp], [y, y - 0.3], color="#c0392b", lw=0.8)
            ax.plot([xn, xn], [y, y - 0.3], color="#2471a3", lw=0.8)
            _res(ax, xp, y - 0.15, "#f5b7b1")
            _res(ax, xn, y - 0.15, "#aed6f1")
    for j in range(n):
        xp, xn = 1.4 + j * 1.5, 2.0 + j * 1.5
        for x, col, lab in ((xp, "#c0392b", "+"), (xn, "#2471a3", "-")):
            ax.plot([x, x], [4.05, 0.35], color=col, lw=1)
            ax.text(x, 0.12, f"0 V\nsense {lab}", ha="center", va="top", fontsize=5)
        _box(ax, xp - 0.35, -1.35, 1.3, 0.45, f"write driver {j}\nA (I+ - I-)", "#e8f8f5", 6)
        ax.annotate("", xy=(xp + 0.3, -1.75), xytext=(xp + 0.3, -1.35), arrowprops={"arrowstyle": "->"})
        _box(ax, xp - 0.35, -2.4, 1.3, 0.6, f"neuron {j}\ncell", "#fef9e7", 6)
    ax.text(0.3, 4.75, "G+ (red) to the + line, G- (blue) to the - line of each column", fontsize=7)
    ax.set_title("4 x 4 crossbar tile (+ bias row), columns at virtual ground", fontsize=9)
    ax.set_xlim(-0.4, 7.5)
    ax.set_ylim(-2.6, 5.0)
    ax.axis("off")


def cell(ax) -> None:
    _box(ax, 0.0, 3.6, 1.6, 0.6, "write driver\n(from VDD_w)", "#e8f8f5")
    _box(ax, 0.0, 2.5, 1.6, 0.6, "pass NMOS\n(on while idle)")
    _box(ax, 0.0, 1.2, 1.6, 0.8, "DW track T1->T2\nm on internal node\n(B-source, Eq. 4)", "#fdebd0")
    _box(ax, 0.0, 0.0, 1.6, 0.6, "return NMOS\nto ground")
    _box(ax, 2.4, 1.2, 1.6, 0.8, "MTJ read divider\nR_read + R_MTJ(m)\nV_out", "#eafaf1")
    _box(ax, 4.6, 1.2, 1.6, 0.8, "hysteretic\ncomparator\nV_hi / V_lo", "#f4ecf7")
    _box(ax, 4.6, 3.0, 1.6, 0.6, "spike out", "#fdedec")
    _box(ax, 2.4, 3.0, 1.6, 0.6, "reset NMOS + return\nPMOS (reverse I)", "#fdedec")
    _box(ax, 2.4, 4.1, 1.6, 0.5, "dump NMOS\n(input shunted)", "#fdedec")
    arrows = [
        ((0.8, 3.6), (0.8, 3.1)),
        ((0.8, 2.5), (0.8, 2.0)),
        ((0.8, 1.2), (0.8, 0.6)),
        ((1.6, 1.6), (2.4, 1.6)),
        ((4.0, 1.6), (4.6, 1.6)),
        ((5.4, 2.0), (5.4, 3.0)),
        ((4.6, 3.3), (4.0, 3.3)),
        ((4.6, 3.45), (4.0, 4.3)),
        ((2.4, 3.3), (1.6, 1.8)),
    ]
    for a, b in arrows:
        ax.annotate("", xy=b, xytext=a, arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.set_title("one DW-LIF neuron cell (dwlif_cell subcircuit)", fontsize=9)
    ax.set_xlim(-0.2, 6.4)
    ax.set_ylim(-0.2, 4.8)
    ax.axis("off")


def main() -> None:
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [1.25, 1]})
    crossbar(a1)
    cell(a2)
    save_figure(fig, OUT, dpi=120)
    print(OUT)


if __name__ == "__main__":
    main()
