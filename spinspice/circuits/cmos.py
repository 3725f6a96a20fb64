"""CMOS parameters and the level-1 model cards of the neuron periphery.

The cards are deliberately simple long-channel Shichman-Hodges models
(ngspice ``level=1``) so that every current in the cell can be checked by
hand: with ``lambda = 0`` a saturated transistor is an exact current source,
which is what makes the reset current (and hence spike width and the scipy
reference) well defined.  Users with a PDK swap the cards; the generators
only need W/L sizing rules.
"""

from __future__ import annotations

import dataclasses

from spinspice.circuits.core import MosfetModel
from spinspice.models.params import ParamSet, param

__all__ = ["CmosParams"]

GENERIC = "generic long-channel level-1 card; modelling choice"


@dataclasses.dataclass(frozen=True)
class CmosParams(ParamSet):
    """Process parameters of the periphery transistors."""

    title = "CMOS periphery (level-1 model cards)"

    vto_n_v: float = param(0.4, unit="V", desc="NMOS threshold voltage", source=GENERIC, lo=0.05, hi=1.5)
    kp_n_a_per_v2: float = param(
        200e-6, unit="A/V^2", desc="NMOS transconductance KP", source=GENERIC, lo=0.0, lo_open=True
    )
    vto_p_v: float = param(
        0.4, unit="V", desc="PMOS threshold voltage magnitude", source=GENERIC, lo=0.05, hi=1.5
    )
    kp_p_a_per_v2: float = param(
        80e-6, unit="A/V^2", desc="PMOS transconductance KP", source=GENERIC, lo=0.0, lo_open=True
    )
    lambda_per_v: float = param(
        0.0,
        unit="1/V",
        desc="channel-length modulation",
        source="modelling choice (0: saturated FET = current source)",
        lo=0.0,
        hi=1.0,
    )
    l_fet_m: float = param(
        100e-9,
        unit="m",
        desc="channel length of every periphery FET",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
    )

    @property
    def nmos(self) -> MosfetModel:
        return MosfetModel(
            name="spinspice_nmos",
            polarity="n",
            vto_v=self.vto_n_v,
            kp_a_per_v2=self.kp_n_a_per_v2,
            lambda_per_v=self.lambda_per_v,
            doc=f"spinspice NMOS: {GENERIC}",
        )

    @property
    def pmos(self) -> MosfetModel:
        return MosfetModel(
            name="spinspice_pmos",
            polarity="p",
            vto_v=self.vto_p_v,
            kp_a_per_v2=self.kp_p_a_per_v2,
            lambda_per_v=self.lambda_per_v,
            doc=f"spinspice PMOS: {GENERIC}",
        )
