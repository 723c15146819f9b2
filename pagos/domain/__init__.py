"""pagos' domain, by sub-domain: charges (`cobros`), conversions and commissions (`comisiones`),
payouts (`payouts`), and what they share (`comun`). No Django here.

The names are re-exported, so `from pagos import domain; domain.Pago` reads the same wherever the
rule lives."""

from .cobros import (
    NAMESPACE_COBROS,
    ClienteConocido,
    CobroDuplicado,
    ErrorTransitorioPasarela,
    EstadoPago,
    Pago,
    PagoConfirmado,
    PagoDeclinado,
    PagoRechazado,
    PagoRevertido,
    PasarelaPagos,
    clave_cobro,
    clave_reembolso,
    id_pago,
    motivo_para_no_cobrar,
    validar_monto_a_cobrar,
)
from .comisiones import (
    AJUSTE,
    NAMESPACE_AJUSTES,
    NAMESPACE_TRANSACCIONES,
    REDONDEO,
    TIPOS_CON_MONTO,
    TOLERANCIA_RELOJ,
    CampaniaVigente,
    ComisionRegistrada,
    ComisionRevertida,
    Conversion,
    ConversionesDecididas,
    Decision,
    EstadoCampania,
    EstadoTransaccion,
    Presupuesto,
    PresupuestoAgotado,
    Rechazo,
    Resultado,
    TipoConversion,
    Transaccion,
    calcular_comision,
    comision_minima,
    consumir_presupuesto,
    decidir_conversiones,
    evaluar_conversion,
    id_ajuste,
    id_transaccion,
    pagable_desde,
    presupuesto_agotado,
    validar_monto_conversion,
    verificar_reversible,
)
from .comun import MONTO_MAXIMO, EstadoCliente, normalizar, unidades_menores
from .payouts import (
    NAMESPACE_CICLOS,
    ComisionesCalculadas,
    EstadoCiclo,
    EstadoPayout,
    Payout,
    PayoutCreado,
    PayoutExitoso,
    PayoutFallido,
    PayoutProcesado,
    clave_payout,
    fin_del_corte,
    id_ciclo,
    id_payout,
    limite_de_pago,
    supera_minimo,
)

__all__ = [
    # cobros
    "NAMESPACE_COBROS", "ClienteConocido", "CobroDuplicado", "ErrorTransitorioPasarela", "EstadoPago", "Pago",
    "PagoConfirmado", "PagoDeclinado", "PagoRechazado", "PagoRevertido", "PasarelaPagos", "clave_cobro",
    "clave_reembolso", "id_pago", "motivo_para_no_cobrar", "validar_monto_a_cobrar",
    # comisiones
    "AJUSTE", "NAMESPACE_AJUSTES", "NAMESPACE_TRANSACCIONES", "REDONDEO", "TIPOS_CON_MONTO", "TOLERANCIA_RELOJ",
    "CampaniaVigente", "ComisionRegistrada", "ComisionRevertida", "Conversion", "ConversionesDecididas", "Decision",
    "EstadoCampania", "EstadoTransaccion", "Presupuesto", "PresupuestoAgotado", "Rechazo", "Resultado",
    "TipoConversion", "Transaccion", "calcular_comision", "comision_minima", "consumir_presupuesto",
    "decidir_conversiones", "evaluar_conversion", "id_ajuste",
    "id_transaccion", "pagable_desde", "presupuesto_agotado", "validar_monto_conversion", "verificar_reversible",
    # comun
    "MONTO_MAXIMO", "EstadoCliente", "normalizar", "unidades_menores",
    # payouts
    "NAMESPACE_CICLOS", "ComisionesCalculadas", "EstadoCiclo", "EstadoPayout", "Payout", "PayoutCreado",
    "PayoutExitoso", "PayoutFallido", "PayoutProcesado", "clave_payout", "fin_del_corte", "id_ciclo", "id_payout",
    "limite_de_pago", "supera_minimo",
]
