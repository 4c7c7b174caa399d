import BatonHandlerKit
import SendBatches
HandlerMain.run(SendBatchesHandler())
