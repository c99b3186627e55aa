/** Public surface of `perception/`: camera and microphone affect perception (see README). */
export { loadOnnxModel, ModelError, type LoadModelOptions, type OnnxModel, type TensorData } from './onnx.js';
