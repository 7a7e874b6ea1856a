//! The time-series store the writer fills: per device, how many readings it holds, the
//! newest reading's number and value (what a dashboard's "last value" query returns), and
//! rows written per interval for the throughput chart. A real TSDB (InfluxDB, Timescale,
//! Prometheus' TSDB) keeps compressed column chunks per series; the sizes here are what
//! the checks and views need, in 16 bytes per device.

/// One device's series summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Series {
    pub rows: u32,
    /// One past the highest reading number held (0: none).
    pub top: u32,
    pub last_value: i32,
}

#[derive(Clone, Debug)]
pub struct TsStore {
    pub series: Vec<Series>,
    pub rows: u64,
}

impl TsStore {
    pub fn new(devices: u32) -> TsStore {
        TsStore { series: vec![Series::default(); devices as usize], rows: 0 }
    }

    /// Writes one row; readings for devices outside the fleet (forged ids) go nowhere.
    pub fn write(&mut self, device: u32, seq: u32, value: i32) {
        self.rows += 1;
        if let Some(s) = self.series.get_mut(device as usize) {
            s.rows = s.rows.saturating_add(1);
            if seq >= s.top {
                s.top = seq.saturating_add(1);
                s.last_value = value;
            }
        }
    }

    pub fn get(&self, device: u32) -> Series {
        self.series.get(device as usize).copied().unwrap_or_default()
    }
}
