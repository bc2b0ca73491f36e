from openhcs.core.memory import numpy
from openhcs.core.pipeline.function_contracts import artifact_outputs
from openhcs.processing.materialization import CsvOptions, JsonOptions, MaterializationSpec
from dataclasses import dataclass
from typing import List, Tuple, Dict, Any
import numpy as np

@dataclass
class CellMeasurement:
    """Per-cell measurement data."""
    slice_index: int
    cell_id: int
    x_position: float
    y_position: float
    area: float
    intensity: float


@dataclass
class SliceSummary:
    """Per-slice summary statistics."""
    slice_index: int
    cell_count: int
    total_area: float
    mean_intensity: float


@numpy
@artifact_outputs(
    ("cell_measurements", MaterializationSpec(CsvOptions(filename_suffix="_cells.csv"))),
    ("slice_summaries", MaterializationSpec(
        JsonOptions(filename_suffix=".json", wrap_list=True),
        CsvOptions(filename_suffix="_details.csv"),
        primary=0,
    ))
)
def analyze_cells(
    image,
    intensity_threshold: float = 100.0,
    min_area: int = 10
) -> Tuple[np.ndarray, List[CellMeasurement], List[SliceSummary]]:
    """
    Multi-output analysis: cell details + slice summaries.

    This demonstrates:
    - Multiple @artifact_outputs with different materializers
    - CSV for detailed per-cell data
    - Dual (JSON+CSV) for summary statistics

    Args:
        image: Input image (C, Y, X)
        intensity_threshold: Threshold for cell detection
        min_area: Minimum cell area in pixels

    Returns:
        Tuple of (processed_image, cell_measurements, slice_summaries)
    """
    from scipy import ndimage
    
    cell_measurements = []
    slice_summaries = []
    
    for slice_idx, slice_data in enumerate(image):
        # Simple threshold + connected components
        binary = slice_data > intensity_threshold
        labeled, num_features = ndimage.label(binary)
        
        slice_cells = []
        for cell_id in range(1, num_features + 1):
            mask = labeled == cell_id
            area = np.sum(mask)
            
            if area >= min_area:
                # Get centroid
                y_coords, x_coords = np.where(mask)
                x_pos = float(np.mean(x_coords))
                y_pos = float(np.mean(y_coords))
                intensity = float(np.mean(slice_data[mask]))
                
                cell_measurements.append(CellMeasurement(
                    slice_index=slice_idx,
                    cell_id=len(slice_cells),
                    x_position=x_pos,
                    y_position=y_pos,
                    area=float(area),
                    intensity=intensity
                ))
                slice_cells.append(area)
        
        # Slice summary
        slice_summaries.append(SliceSummary(
            slice_index=slice_idx,
            cell_count=len(slice_cells),
            total_area=float(sum(slice_cells)),
            mean_intensity=float(np.mean(slice_data)) if slice_data.size > 0 else 0.0
        ))
    
    return image.copy(), cell_measurements, slice_summaries
