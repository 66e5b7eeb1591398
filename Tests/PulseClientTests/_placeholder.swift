// placeholder until this module has sources (removed by the integrator)
