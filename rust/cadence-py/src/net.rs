//! Binding of `cadence_core::floor::net`: `FloorNetwork`, one network of the floor model, and
//! `FloorEnsemble`, networks averaged in one call.

use cadence_core::floor::net::{ConvParams, FloorEnsemble as CoreEnsemble, FloorNet, NetParams};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::arrays::F32Arg;
use crate::errors::{invalid_argument, map, Exclusive};

/// `obj` as a float32 array of `ndim` dimensions: (shape, values).
fn array(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
    ndim: usize,
) -> PyResult<(Vec<usize>, Vec<f32>)> {
    let a = F32Arg::new(py, obj, what, false)?;
    if a.shape.len() != ndim {
        let shape = &a.shape;
        return Err(invalid_argument(
            py,
            format!("{what} must have {ndim} dimensions, got shape {shape:?}"),
        ));
    }
    Ok((a.shape.clone(), a.values().into_owned()))
}

/// One trained network of the floor model (projection, causal convolutions, GRU, linear
/// heads), built and checked from its weights in torch's layouts; a `FloorEnsemble` runs
/// it. The numpy reference is `cadence.floor.model._Member`.
#[pyclass(module = "cadence._core", frozen)]
pub struct FloorNetwork {
    inner: FloorNet,
}

#[pymethods]
impl FloorNetwork {
    #[new]
    #[pyo3(signature = (mean, std, in_w, in_b, conv_w, conv_b, dilations, w_ih, b_ih, w_hh, b_hh, out_w, out_b,
                        head_w, head_b))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        mean: &Bound<'_, PyAny>,
        std: &Bound<'_, PyAny>,
        in_w: &Bound<'_, PyAny>,
        in_b: &Bound<'_, PyAny>,
        conv_w: Vec<Bound<'_, PyAny>>,
        conv_b: Vec<Bound<'_, PyAny>>,
        dilations: Vec<i64>,
        w_ih: &Bound<'_, PyAny>,
        b_ih: &Bound<'_, PyAny>,
        w_hh: &Bound<'_, PyAny>,
        b_hh: &Bound<'_, PyAny>,
        out_w: &Bound<'_, PyAny>,
        out_b: &Bound<'_, PyAny>,
        head_w: &Bound<'_, PyAny>,
        head_b: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        if conv_w.len() != conv_b.len() || conv_w.len() != dilations.len() {
            return Err(invalid_argument(
                py,
                format!(
                    "conv_w, conv_b and dilations must have one entry per layer, got {}, {} and {}",
                    conv_w.len(),
                    conv_b.len(),
                    dilations.len()
                ),
            ));
        }
        let (_, mean) = array(py, mean, "mean", 1)?;
        let n_in = mean.len();
        let (_, in_b) = array(py, in_b, "in_b", 1)?;
        let mut width = in_b.len();
        let mut convs = Vec::with_capacity(conv_w.len());
        for (i, ((w, b), d)) in conv_w.iter().zip(&conv_b).zip(&dilations).enumerate() {
            let (shape, w) = array(py, w, &format!("conv_w[{i}]"), 3)?;
            let (_, b) = array(py, b, &format!("conv_b[{i}]"), 1)?;
            if *d < 1 {
                return Err(invalid_argument(
                    py,
                    format!("dilations[{i}] must be >= 1, got {d}"),
                ));
            }
            convs.push(ConvParams {
                w,
                b,
                cout: shape[0],
                cin: shape[1],
                k: shape[2],
                dilation: *d as usize,
            });
            width = shape[0];
        }
        let (hh_shape, w_hh) = array(py, w_hh, "w_hh", 2)?;
        let hidden = hh_shape[1];
        let (_, out_b) = array(py, out_b, "out_b", 1)?;
        let (_, head_b) = array(py, head_b, "head_b", 1)?;
        // every matrix in its torch layout (out, in): a transposed one of the same size is refused
        let matrix =
            |obj: &Bound<'_, PyAny>, what: &str, rows: usize, cols: usize| -> PyResult<Vec<f32>> {
                let (shape, v) = array(py, obj, what, 2)?;
                if shape != [rows, cols] {
                    return Err(invalid_argument(
                        py,
                        format!("{what} must have shape ({rows}, {cols}), got {shape:?}"),
                    ));
                }
                Ok(v)
            };
        let in_w = matrix(in_w, "in_w", in_b.len(), n_in)?;
        if hh_shape != [3 * hidden, hidden] {
            return Err(invalid_argument(
                py,
                format!("w_hh must have shape (3 * hidden, hidden), got {hh_shape:?}"),
            ));
        }
        let w_ih = matrix(w_ih, "w_ih", 3 * hidden, width)?;
        let out_w = matrix(out_w, "out_w", out_b.len(), hidden)?;
        let head_w = matrix(head_w, "head_w", head_b.len(), hidden + width)?;
        let p = NetParams {
            mean,
            std: array(py, std, "std", 1)?.1,
            in_w,
            in_b,
            convs,
            w_ih,
            b_ih: array(py, b_ih, "b_ih", 1)?.1,
            w_hh,
            b_hh: array(py, b_hh, "b_hh", 1)?.1,
            out_w,
            out_b,
            head_w,
            head_b,
        };
        Ok(FloorNetwork {
            inner: map(py, FloorNet::new(n_in, hidden, p))?,
        })
    }

    #[getter]
    fn n_inputs(&self) -> usize {
        self.inner.n_inputs()
    }

    /// The targets' probabilities, then the heads', per frame.
    #[getter]
    fn n_outputs(&self) -> usize {
        self.inner.n_outputs()
    }

    /// Immutable: a copy is the network itself (as for a tuple).
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    fn __repr__(&self) -> String {
        format!(
            "FloorNetwork(n_inputs={}, n_outputs={})",
            self.inner.n_inputs(),
            self.inner.n_outputs()
        )
    }
}

/// Networks whose probabilities are averaged (the floor model's ensemble; one network is an
/// ensemble of one), run in one call with the GIL released. Each keeps this ensemble's
/// call state; the weights are shared with the networks given, not copied.
#[pyclass(frozen, module = "cadence._core")]
pub struct FloorEnsemble {
    inner: Exclusive<CoreEnsemble>,
    // fixed for the object's life: read without the lock
    n_inputs: usize,
    n_outputs: usize,
}

impl FloorEnsemble {
    fn wrap(inner: CoreEnsemble) -> Self {
        FloorEnsemble {
            n_inputs: inner.n_inputs(),
            n_outputs: inner.n_outputs(),
            inner: Exclusive::new("FloorEnsemble", inner),
        }
    }

    /// A copy with this one's call state (`copy.copy`, `copy.deepcopy`).
    fn copied(&self, py: Python<'_>) -> PyResult<Self> {
        let state = self.inner.get(py)?.clone();
        Ok(FloorEnsemble::wrap(state))
    }
}

#[pymethods]
impl FloorEnsemble {
    #[new]
    fn new(py: Python<'_>, networks: Vec<PyRef<'_, FloorNetwork>>) -> PyResult<Self> {
        let nets = networks.iter().map(|n| n.inner.clone()).collect();
        Ok(FloorEnsemble::wrap(map(py, CoreEnsemble::new(nets))?))
    }

    #[getter]
    fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    #[getter]
    fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// Forget the call in every network.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.get(py)?.reset();
        Ok(())
    }

    /// `x`: float32 (n, n_inputs) → float32 (n, n_outputs), the networks' mean. A refused
    /// call changes nothing.
    fn process<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let (ni, no) = (self.n_inputs, self.n_outputs);
        let x = F32Arg::new(py, x, "x", false)?;
        let n = match x.shape.as_slice() {
            [n, c] if *c == ni => *n,
            s => {
                return Err(invalid_argument(
                    py,
                    format!("x must have shape (n, {ni}), got {s:?}"),
                ))
            }
        };
        let xv = x.values();
        let out = self.inner.run(py, |inner| {
            let mut out = vec![0.0f32; n * no];
            inner.process(&xv, &mut out).map(|()| out)
        })?;
        PyArray1::from_vec(py, out).reshape([n, no])
    }

    fn __copy__(&self, py: Python<'_>) -> PyResult<Self> {
        self.copied(py)
    }

    fn __deepcopy__(&self, py: Python<'_>, _memo: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.copied(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "FloorEnsemble(n_inputs={}, n_outputs={})",
            self.n_inputs, self.n_outputs
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FloorNetwork>()?;
    m.add_class::<FloorEnsemble>()
}
