import BatonHandlerKit
import GenerateStories
HandlerMain.run(GenerateStoriesHandler())
