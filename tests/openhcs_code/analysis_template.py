from openhcs.core.memory import numpy
from openhcs.core.pipeline.function_contracts import artifact_outputs
from openhcs.processing.materialization import CsvOptions, MaterializationSpec
from dataclasses import dataclass
from typing import List, Tuple
import numpy as np

@dataclass
class AnalysisResult:
    """Result dataclass - fields become CSV columns."""
    slice_index: int
    measurement: float
    count: int
    # Add your analysis fields here


@numpy
@artifact_outputs(("analysis_results", MaterializationSpec(CsvOptions(
    fields=["slice_index", "measurement", "count"],
    filename_suffix=".csv"
))))
def my_analysis_function(image, threshold: float = 0.5) -> Tuple[np.ndarray, List[AnalysisResult]]:
    """
    Analysis function that produces both processed image AND structured results.

    Args:
        image: Input image as 3D numpy array (C, Y, X)
        threshold: Analysis threshold parameter

    Returns:
        Tuple of:
        - Processed image as 3D numpy array (C, Y, X)
        - List of AnalysisResult dataclasses (auto-serialized to CSV)

    Notes:
        - @artifact_outputs declares that this function produces analysis data
        - CsvOptions auto-converts AnalysisResult fields to CSV columns
        - Return is ALWAYS a tuple: (image, special_output_1, special_output_2, ...)
    """
    results = []
    
    # Process each slice and collect measurements
    for i, slice_data in enumerate(image):
        # Your analysis logic here
        measurement = float(np.mean(slice_data[slice_data > threshold]))
        count = int(np.sum(slice_data > threshold))
        
        results.append(AnalysisResult(
            slice_index=i,
            measurement=measurement,
            count=count
        ))
    
    # Processing (can be identity if you only want analysis)
    processed = image.copy()
    
    # Return tuple: (processed_image, analysis_results)
    return processed, results
